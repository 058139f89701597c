"""Deployment tooling: the Lambda package builder (the SAM template is template.yaml at the repository root)."""
