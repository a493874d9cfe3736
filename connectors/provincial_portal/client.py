"""Signing the webhook body with the gateway's key: a detached compact JWS over the canonical body."""

from gateway.kit import Config, ConfigError, Signer, SignerError, load_signer, sign_jws


def detached(body: bytes, signer: Signer) -> str:
    """``<protected>..<signature>``: the compact JWS over ``body`` with its payload left out (RFC 7515 F)."""
    protected, _payload, signature = sign_jws(body, signer).split(".")
    return f"{protected}..{signature}"


def gateway_signer(config: Config) -> Signer:
    signing = config.section("signing")
    key, cert = str(signing.get("key", "")), str(signing.get("cert", ""))
    if not key:
        raise ConfigError("provincial_portal.sign = true needs the gateway's key: [signing] key and cert")
    try:
        return load_signer(key, cert or None)
    except (OSError, SignerError, ValueError) as exc:
        raise ConfigError(f"signing.key: {exc}") from exc
