"""The AWS regions where DRS (Elastic Disaster Recovery) is available, in the order the sync queries them."""

DRS_REGIONS: list[str] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "il-central-1",
    "ca-central-1",
    "sa-east-1",
]

# The GovCloud (US) regions where DRS is available; the sync does not query them unless told to.
DRS_GOVCLOUD_REGIONS: list[str] = ["us-gov-west-1", "us-gov-east-1"]


def is_valid_drs_region(region: str) -> bool:
    """Whether `region` is a region where DRS is available: a commercial or a GovCloud one."""
    return region in DRS_REGIONS or region in DRS_GOVCLOUD_REGIONS
