"""isocert — online portal of an ISO management-system certification body."""
