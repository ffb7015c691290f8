"""The f5-as3 renderer: the graph as one BIG-IP AS3 declaration (JSON), built as plain data."""

from __future__ import annotations

import json
from collections.abc import Sequence

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.backends.f5_as3.declaration import declaration
from services.renderer.backends.f5_as3.features import RENDERER_VERSION, SUPPORTED_FEATURES
from services.renderer.domain.ports import Description, RenderedFile, Rendering
from services.renderer.domain.tls import KEY_FILE_MODE

CONFIG_PATH = "as3.json"


def encode(document: dict) -> bytes:
    """Deterministic JSON: sorted keys, ASCII only (every non-ASCII character escaped), so equal
    graphs give equal bytes and equal config hashes."""
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode()


class As3Renderer:
    def __init__(self, template_dir: str = "", version: str = "") -> None:
        # template_dir is accepted for the common renderer signature: this backend builds its
        # output as data and has no templates to replace.
        self._version = version or RENDERER_VERSION

    def describe(self) -> Description:
        return Description(
            backend_type="f5-as3",
            renderer_version=self._version,
            supported_features=SUPPORTED_FEATURES,
        )

    def render(
        self,
        loadbalancer: graph_pb2.LoadBalancer,
        target: renderer_service_pb2.Target,
        materials: Sequence[renderer_service_pb2.TlsMaterial] = (),
    ) -> Rendering:
        content = encode(declaration(loadbalancer, target, materials))
        # The declaration holds the listeners' private keys.
        files = (RenderedFile(CONFIG_PATH, content, KEY_FILE_MODE),)
        return Rendering.of(files, self._version)
