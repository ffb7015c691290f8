"""Parsing haproxy's `show stat` and `show proc` answers."""

from amphora_agent.stats import (
    normalize_status,
    parse_show_proc,
    parse_show_stat,
    snapshot_from_rows,
)

FE = "11111111-1111-4111-8111-111111111111"
BE = "22222222-2222-4222-8222-222222222222"
M1, M2, M3 = (f"3333333{i}-3333-4333-8333-333333333333" for i in (1, 2, 3))

HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,\n"
)


def _row(px, sv, *, scur=0, stot=0, bin_=0, bout=0, ereq="", status="", kind="0"):
    cols = [px, sv, "", "", str(scur), "0", "", str(stot), str(bin_), str(bout), "0", "0", ereq]
    cols += ["", "", "", "", status] + [""] * 14 + [kind, "0"]
    return ",".join(cols) + ",\n"


SHOW_STAT = (
    HEADER
    + _row(FE, "FRONTEND", scur=3, stot=42, bin_=1000, bout=2000, ereq="1", status="OPEN")
    + _row("lbaas-internal", "FRONTEND", status="OPEN")
    + _row(BE, M1, status="UP", kind="2")
    + _row(BE, M2, status="DOWN 1/2", kind="2")
    + _row(BE, M3, status="MAINT (via x/y)", kind="2")
    + _row(BE, "BACKEND", status="UP", kind="1")
    + _row("stats", "BACKEND", status="UP", kind="1")
    + "\n"
)


def test_show_stat_keeps_only_controller_objects_and_groups_members():
    snapshot = snapshot_from_rows(parse_show_stat(SHOW_STAT))
    assert [fe.name for fe in snapshot.frontends] == [FE]
    fe = snapshot.frontends[0]
    assert (fe.status, fe.active_connections, fe.total_connections) == ("OPEN", 3, 42)
    assert (fe.bytes_in, fe.bytes_out, fe.request_errors) == (1000, 2000, 1)
    assert len(snapshot.pools) == 1
    pool = snapshot.pools[0]
    assert pool.name == BE and pool.status == "UP"
    assert [(m.name, m.status) for m in pool.members] == [(M1, "UP"), (M2, "DOWN"), (M3, "MAINT")]


def test_status_normalization():
    assert normalize_status("no check") == "no check"
    assert normalize_status("UP 1/3") == "UP"
    assert normalize_status("MAINT(resolution)") == "MAINT"
    assert normalize_status("DRAIN") == "DRAIN"
    assert normalize_status("") == ""


def test_empty_stat_answer_is_an_empty_snapshot():
    snapshot = snapshot_from_rows(parse_show_stat(HEADER))
    assert snapshot.frontends == () and snapshot.pools == ()


SHOW_PROC = """#<PID>          <type>          <reloads>       <uptime>        <version>
5276            master          3 [failed: 1]   0d00h10m12s     2.6.12-1+deb12u4
# workers
5279            worker          1               0d00h10m12s     2.6.12-1+deb12u4
# old workers
5100            worker          2               0d00h11m12s     2.6.12-1+deb12u4
# programs

"""


def test_show_proc():
    table = parse_show_proc(SHOW_PROC)
    assert (table.master_pid, table.master_reloads, table.master_failed) == (5276, 3, 1)
    assert table.workers == {5279: 1}


def test_info_and_stat_answer_gives_the_worker_pid_with_the_counters():
    from amphora_agent.stats import parse_info_and_stat

    fe = "11111111-1111-4111-8111-111111111111"
    text = (
        "Name: HAProxy\nVersion: 2.6.12\nPid: 3839\nUptime_sec: 0\n\n"
        "# pxname,svname,scur,stot,bin,bout,ereq,status,type\n"
        f"{fe},FRONTEND,1,9,100,200,0,OPEN,0\n"
    )
    snapshot = parse_info_and_stat(text)
    assert snapshot.generation == 3839
    assert [(f.name, f.total_connections) for f in snapshot.frontends] == [(fe, 9)]


_STATE_HEAD = (
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
    "srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord "
    "srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
)


def _state_line(name: str, op: int, admin: int) -> str:
    return f"4 pool-1 1 {name} 192.0.2.1 {op} {admin} 50 50 6 1 0 0 8 0 0 0 - 80 - 0 0 - - 0\n"


def test_restorable_server_state_drops_servers_nothing_would_bring_back_up():
    from amphora_agent.stats import checked_servers, restorable_server_state

    cfg = (
        "backend pool-1\n"
        "    server was-disabled 192.0.2.1:80 weight 50\n"
        "    server down-checked 192.0.2.2:80 weight 1 check inter 2s fall 3 rise 2\n"
        "    server down-unchecked 192.0.2.3:80 weight 1\n"
        "    server up-unchecked 192.0.2.4:80 weight 1\n"
    )
    checked = checked_servers(cfg)
    assert checked == {"down-checked"}
    state = (
        _STATE_HEAD
        # Disabled by the config (CMAINT and FMAINT): haproxy keeps it stopped; now enabled.
        + _state_line("was-disabled", 0, 5)
        # Found down by its health check: the next worker starts from that.
        + _state_line("down-checked", 0, 0)
        # Down by a check the new config no longer has (monitor removed): nothing would raise it.
        + _state_line("down-unchecked", 0, 0)
        + _state_line("up-unchecked", 2, 0)
    )
    kept = restorable_server_state(state, checked)
    assert kept == (
        _STATE_HEAD + _state_line("down-checked", 0, 0) + _state_line("up-unchecked", 2, 0)
    )
    # A server still disabled by the new config is dropped too: the config disables it again.
    assert "was-disabled" not in restorable_server_state(state, {"was-disabled"})
