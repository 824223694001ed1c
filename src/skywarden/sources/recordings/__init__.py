"""Recorded files: pcap/pcapng, format detection, readers per format, inventory for `inspect`
and scan batches for `track`."""
