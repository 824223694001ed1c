"""Edge in: transports (the only I/O here) and pure parsers (bytes -> records -> Detections)."""
