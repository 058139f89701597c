"""Local emulator of AWS Elastic Disaster Recovery (DRS): state in models, wire protocol in responses."""
