"""The gateway keeps the views of a load balancer list per scope and reuses them while the
orchestrator answers not_modified; filters, sorting and fields still apply per request."""

from __future__ import annotations

from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.list_cache import ListCache

from .conftest import ADMIN, OTHER


class EtagOrchestrator:
    """Wraps the memory orchestrator: ListLoadBalancers answers carry an etag that changes on
    every write, and a request naming the current one gets not_modified (as the orchestrator)."""

    def __init__(self, inner):
        self.inner = inner
        self.generation = 0
        self.lists: list[pb.ListLoadBalancersRequest] = []
        self.full_answers = 0

    async def close(self) -> None:
        return None

    async def call(self, rpc, request):
        if rpc != "ListLoadBalancers":
            if not rpc.startswith(("Get", "List")):
                self.generation += 1
            return await self.inner.call(rpc, request)
        self.lists.append(request)
        etag = f"boot.{self.generation}"
        if request.if_none_match == etag:
            return pb.ListLoadBalancersResponse(etag=etag, not_modified=True)
        answer = await self.inner.call(rpc, request)
        answer.etag = etag
        self.full_answers += 1
        return answer


def test_views_are_reused_while_the_etag_holds(orch, client, lb):
    wrapped = EtagOrchestrator(orch)
    client.app.state.orchestrator = wrapped
    first = client.get("/v2/lbaas/loadbalancers").json()["loadbalancers"]
    assert [x["id"] for x in first] == [lb["id"]]
    assert wrapped.lists[-1].if_none_match == ""
    # Unchanged: the request names the kept etag, gets no items, answers from the views.
    second = client.get("/v2/lbaas/loadbalancers").json()["loadbalancers"]
    assert second == first
    assert wrapped.lists[-1].if_none_match == "boot.0" and wrapped.full_answers == 1
    # Query features still apply per request, without touching the kept views.
    only = client.get("/v2/lbaas/loadbalancers?fields=id&fields=name").json()["loadbalancers"]
    assert only == [{"id": lb["id"], "name": "lb1"}]
    assert client.get("/v2/lbaas/loadbalancers").json()["loadbalancers"] == first
    # A write changes the etag: the next list is answered in full and shows it.
    renamed = client.put(
        f"/v2/lbaas/loadbalancers/{lb['id']}", json={"loadbalancer": {"name": "x"}}
    )
    assert renamed.status_code == 200, renamed.text
    after = client.get("/v2/lbaas/loadbalancers").json()["loadbalancers"]
    assert [x["name"] for x in after] == ["x"] and wrapped.full_answers == 2
    # Scopes are kept apart: another project's list is its own (and empty here).
    other = client.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": OTHER}).json()
    assert other["loadbalancers"] == []
    everything = client.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": ADMIN}).json()
    assert [x["id"] for x in everything["loadbalancers"]] == [lb["id"]]


def test_not_modified_without_kept_views_asks_again(orch, client, lb):
    wrapped = EtagOrchestrator(orch)
    client.app.state.orchestrator = wrapped
    client.get("/v2/lbaas/loadbalancers")
    # The kept views went (evicted) but the gateway still names the etag it had.
    cache: ListCache = client.app.state.list_cache
    cache.get = lambda key, etag: None  # type: ignore[method-assign]
    answer = client.get("/v2/lbaas/loadbalancers").json()["loadbalancers"]
    assert [x["id"] for x in answer] == [lb["id"]]
    assert wrapped.lists[-1].if_none_match == ""


def test_list_cache_is_bounded_and_ignores_answers_without_etag():
    cache = ListCache(size=2)
    cache.put(("a", False), "", [{"id": "1"}])
    assert cache.etag(("a", False)) == ""
    for name in ("a", "b", "c"):
        cache.put((name, False), f"e-{name}", [{"id": name}])
    assert cache.etag(("a", False)) == ""  # evicted, least recently used
    assert cache.get(("c", False), "e-c") == [{"id": "c"}]
    assert cache.get(("c", False), "e-other") is None
