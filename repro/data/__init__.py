"""Datasets: a checksummed manifest, fetching into the cache, and loaders."""
