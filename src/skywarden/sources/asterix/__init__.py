"""EUROCONTROL ASTERIX: block splitting and decoding (libasterix, with vectorised fast paths
checked against it), records -> Detections, and the encoders the simulator uses."""
