"""Experiments: YAML configs expanded into a grid of cached, resumable train and eval steps."""
