"""The pure, vectorised tracking core: arrays in, arrays out.

Entry point: :func:`skywarden.track.step.step`.
"""
