from tests.bus.nats_server import _no_proxy, nats_server  # noqa: F401 (fixtures)
