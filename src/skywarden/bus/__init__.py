"""Past one machine: skywarden's roles over NATS JetStream (docs/bus.md).

``skywarden run SITE.toml --role edge|core|api`` splits today's single process (``all``, the
default, needs no NATS) into sensor gateways (:mod:`skywarden.bus.edge`), a per-site tracker
that survives a restart (:mod:`skywarden.bus.core`) and any number of REST/WebSocket/map
servers (:mod:`skywarden.bus.api`). Subjects and stream names: :mod:`skywarden.bus.subjects`;
the ``[bus]`` table: :mod:`skywarden.bus.settings`. Only the role modules import ``nats``.
"""
