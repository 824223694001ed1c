"""Mode S / ADS-B: Beast and SBS framing, Mode S decoding (rs1090), CPR, per-ICAO state ->
Detections, and the encoders the simulator uses."""
