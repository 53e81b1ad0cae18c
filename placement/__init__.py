"""The placement domain: registry, persistence, security and the bridge to the matcher."""
