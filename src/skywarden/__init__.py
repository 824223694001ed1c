"""skywarden: drone early warning and airspace surveillance.

Data flow: sources -> detections -> track -> classify -> warn -> snapshot -> readers.
"""

__version__ = "0.1.0"
