"""Loaded only by the `openstack` processes the compat tests start (their PYTHONPATH, see
tests/support/osclients.py): python-octaviaclient's `--wait` checks the status every 3 s, a
constant, and the tests' stack settles in milliseconds, so most of a compat run was spent
asleep. Here its polls come every 0.05 s; the commands, their requests and their output are
the real client's, unchanged."""

try:
    from osc_lib import utils as _utils
except ImportError:  # not the openstack CLI's environment: nothing to do
    pass
else:
    _POLL = 0.05

    def _fast(wait):
        def wrapped(*args, **kwargs):
            kwargs["sleep_time"] = _POLL
            return wait(*args, **kwargs)

        return wrapped

    _utils.wait_for_status = _fast(_utils.wait_for_status)
    _utils.wait_for_delete = _fast(_utils.wait_for_delete)
