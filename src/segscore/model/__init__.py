"""segscore.model."""
