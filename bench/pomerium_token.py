"""bench/run's Pomerium-shaped assertion: an EC P-256 key made here, its JWKS written to
the file given, and one ES256 token for USER printed (valid for three hours).

    /usr/bin/python3 bench/pomerium_token.py JWKS_FILE ISSUER AUDIENCE USER

Needs Debian's python3-cryptography and python3-jwt (scripts/deps.sh installs them)."""
import base64
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec


def b64(n):
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()


def main():
    jwks_file, issuer, audience, user = sys.argv[1:5]
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "kid": "bench", "alg": "ES256", "use": "sig", "x": b64(numbers.x), "y": b64(numbers.y)}
    with open(jwks_file, "w") as f:
        json.dump({"keys": [jwk]}, f)
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "email": user, "sub": "bench-subject", "iat": now, "exp": now + 3 * 3600}
    print(jwt.encode(claims, key, algorithm="ES256", headers={"kid": "bench"}))


if __name__ == "__main__":
    main()
