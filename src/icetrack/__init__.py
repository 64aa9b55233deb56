"""icetrack: U.S. immigration enforcement against its announced targets, from the public record."""

__version__ = "0.1.0"
