"""Drone Remote ID (ASTM F3411 / OpenDroneID): messages, the four broadcast transports, per-UA
assembly -> Detections, and the encoders the simulator uses."""
