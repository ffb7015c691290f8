"""The backend-independent L7 policy walk (services.renderer.domain.l7)."""

from __future__ import annotations

import pytest
from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.domain import l7

LISTENER = "listener.1a1a1a1a-0000-4000-8000-000000000001"
POOL = "2b2b2b2b-0000-4000-8000-000000000001"
P = [f"6f6f6f6f-0000-4000-8000-00000000000{i}" for i in range(1, 6)]
R = [f"7a7a7a7a-0000-4000-8000-00000000000{i}" for i in range(1, 6)]


def _policy(pid: str, action: str, position: int, rule_ids=(), **kw) -> graph_pb2.L7Policy:
    rules = [
        graph_pb2.L7Rule(meta=graph_pb2.ResourceMeta(id=r, admin_state_up=True)) for r in rule_ids
    ]
    meta = graph_pb2.ResourceMeta(id=pid, admin_state_up=kw.pop("up", True))
    return graph_pb2.L7Policy(meta=meta, action=action, position=position, rules=rules, **kw)


def _pools(up: bool = True) -> dict[str, graph_pb2.Pool]:
    return {POOL: graph_pb2.Pool(meta=graph_pb2.ResourceMeta(id=POOL, admin_state_up=up))}


def _walk(policies, pools=None, check_pool=lambda *a: None, **kw):
    return l7.applied_policies(
        policies,
        LISTENER,
        _pools() if pools is None else pools,
        lambda r, rid: rid,
        check_pool,
        **kw,
    )


def test_applied_policies_by_position_and_evaluated_in_octavias_order() -> None:
    applied = _walk([
        _policy(P[0], "REDIRECT_TO_POOL", 1, [R[0]], redirect_pool_id=POOL),
        _policy(P[1], "REDIRECT_PREFIX", 2, [R[1]], redirect_prefix="https://a.example"),
        _policy(P[2], "REJECT", 3, [R[2]]),
        _policy(P[3], "REJECT", 4, [R[3]], up=False),  # disabled: checked, never applied
        _policy(P[4], "REDIRECT_TO_URL", 0, [], redirect_url="https://b.example/"),  # no rule
    ])  # fmt: skip
    assert [p.id for p in applied] == P[:3]
    assert [p.id for p in l7.evaluation_order(applied)] == [P[2], P[1], P[0]]
    assert l7.entry(applied[1]) == {
        "id": P[1], "action": "REDIRECT_PREFIX", "prefix": "https://a.example", "code": 302,
    }  # fmt: skip
    assert l7.entry(applied[0]) == {"id": P[0], "action": "REDIRECT_TO_POOL", "pool": POOL}


def test_a_policy_to_a_disabled_pool_is_never_applied() -> None:
    assert _walk([_policy(P[0], "REDIRECT_TO_POOL", 1, [R[0]], redirect_pool_id=POOL)],
                 pools=_pools(up=False)) == []  # fmt: skip


@pytest.mark.parametrize(
    ("policies", "message", "field"),
    [
        ([_policy(P[0], "REJECT", 1), _policy(P[0], "REJECT", 2)],
         f"L7 policy {P[0]} appears twice", f"l7policy.{P[0]}.id"),
        ([_policy(P[0], "REJECT", 1, [R[0]]), _policy(P[1], "REJECT", 2, [R[0]])],
         f"L7 rule {R[0]} appears twice", f"l7policy.{P[1]}.rules"),
        ([_policy(P[0], "REJECT", 1, redirect_http_code=200)],
         f"l7policy.{P[0]}.redirect_http_code must be one of 301, 302, 303, 307, 308",
         f"l7policy.{P[0]}.redirect_http_code"),
        ([_policy(P[0], "REDIRECT_TO_POOL", 1, redirect_pool_id=P[1])],
         f"L7 policy {P[0]} redirects to pool {P[1]}, which is not in the graph",
         f"l7policy.{P[0]}.redirect_pool_id"),
        ([_policy(P[0], "REDIRECT_TO_URL", 1, redirect_url="no url")],
         None, f"l7policy.{P[0]}.redirect_url"),
    ],
)  # fmt: skip
def test_refusals_name_the_policy(policies, message, field) -> None:
    with pytest.raises(InvalidInput) as raised:
        _walk(policies)
    assert raised.value.field == field
    if message is not None:
        assert raised.value.user_message == message


def test_the_backend_refuses_pools_it_cannot_route_to() -> None:
    def refuse(pool_id: str, pool: graph_pb2.Pool, pfield: str) -> None:
        raise InvalidInput(f"no {pool_id}", field=f"{pfield}.redirect_pool_id")

    with pytest.raises(InvalidInput, match=f"no {POOL}"):
        _walk([_policy(P[0], "REDIRECT_TO_POOL", 1, redirect_pool_id=POOL)], check_pool=refuse)


def test_f5_options_keep_its_leniency_and_order() -> None:
    # The f5-as3 renderer ignores redirect_http_code on non-redirect actions ...
    lenient = [_policy(P[0], "REJECT", 1, [R[0]], redirect_http_code=200)]
    assert [p.code for p in _walk(lenient, codes_of_redirects_only=True)] == [None]

    # ... and looks a rule id up among those seen before checking the rule (the others after).
    twice = [_policy(P[0], "REJECT", 1, [R[0]]), _policy(P[1], "REJECT", 2, [R[0]])]

    def second_is_bad(seen: list[str]):
        def check(rule: graph_pb2.L7Rule, rid: str) -> str:
            seen.append(rid)
            if len(seen) > 1:
                raise InvalidInput("bad rule", field="rule")
            return rid

        return check

    with pytest.raises(InvalidInput, match="bad rule"):
        l7.applied_policies(twice, LISTENER, {}, second_is_bad([]), lambda *a: None)
    with pytest.raises(InvalidInput, match="appears twice"):
        l7.applied_policies(
            twice, LISTENER, {}, second_is_bad([]), lambda *a: None, rule_ids_first=True
        )
