"""The two pieces of a kernel that ipywidgets looks for, and nbclient's Output-widget routing.

Under ipykernel + nbclient (as nbgrader runs notebooks), `with widgets.Output():` and `interact`
send what runs inside them to the widget, not to the cell: the widget takes the request's
`msg_id` from the kernel (`kernel.get_parent()`) and syncs it over its comm, and nbclient then
routes every output of that request to the widget until the `msg_id` is cleared. So an error an
`interact` callback raises is shown in the widget and the cell has no error output.

In the sandbox there is no kernel and no frontend: `KernelStandIn` gives the shell a `kernel`
whose parent header names the running cell, and `SandboxComm` (installed as `comm.create_comm`)
watches the Output models' `msg_id` and tells the output sink when to route to the widget.
"""

from __future__ import annotations

import secrets
from typing import Any

from grading.runtime.outputs import OutputSink

try:
    from comm.base_comm import BaseComm
except ImportError:  # no comm package: no widgets either
    BaseComm = object  # type: ignore[assignment,misc]

_OUTPUT_MODEL = "OutputModel"


class KernelStandIn:
    """What ipywidgets reads of ipykernel's kernel: the parent request of the running cell."""

    def __init__(self) -> None:
        self.msg_id = secrets.token_hex(16)

    def new_cell(self) -> None:
        """A new execute request: a fresh msg_id (an Output widget left open in an earlier cell
        then captures nothing of this one, as under nbclient)."""
        self.msg_id = secrets.token_hex(16)

    def get_parent(self, channel: str | None = None) -> dict[str, Any]:
        """The running cell's request header, as ipykernel's Kernel.get_parent returns it."""
        return {"header": {"msg_id": self.msg_id, "msg_type": "execute_request"}}


class SandboxComm(BaseComm):  # type: ignore[misc,valid-type]
    """A comm with no frontend that plays nbclient's part for Output widgets."""

    sink: OutputSink | None = None
    kernel: KernelStandIn | None = None

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        """Nothing is sent; an Output model's `msg_id` switches the sink's routing."""
        if not isinstance(data, dict) or not isinstance(data.get("state"), dict):
            return
        state = data["state"]
        if msg_type == "comm_open":
            self._is_output = state.get("_model_name") == _OUTPUT_MODEL
        if not getattr(self, "_is_output", False) or "msg_id" not in state:
            return
        sink, kernel = type(self).sink, type(self).kernel
        if sink is None or kernel is None:
            return
        capturing = bool(state["msg_id"]) and state["msg_id"] == kernel.msg_id
        sink.route_to_widget(self.comm_id, capturing)


def install(shell: Any, sink: OutputSink) -> KernelStandIn | None:
    """Give `shell` a kernel stand-in and make new comms SandboxComms (if comm is installed)."""
    if BaseComm is object:
        return None
    import comm

    kernel = KernelStandIn()
    SandboxComm.sink, SandboxComm.kernel = sink, kernel
    comm.create_comm = SandboxComm
    shell.kernel = kernel
    return kernel
