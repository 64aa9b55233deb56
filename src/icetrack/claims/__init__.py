"""Claims registry: published statements written down once and checked against the loaded sources."""

from icetrack.claims.registry import Claim, ClaimsFileError, load_claims, parse_claims
from icetrack.claims.verdicts import VERDICTS, check_claims

__all__ = ["Claim", "ClaimsFileError", "VERDICTS", "check_claims", "load_claims", "parse_claims"]
