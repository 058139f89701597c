"""A local AWS for the inventory sync: moto for DynamoDB, EC2 and STS, our own DRS emulator, faults and latency."""
