"""Track-to-track fusion across sites (pure): covariance intersection and the regional
association of site tracks (``--role region``)."""
