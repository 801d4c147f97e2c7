#!/bin/sh
# Runs from the nginx image's /docker-entrypoint.d before nginx starts: when no certificate is
# mounted at /etc/nginx/certs, generate a self-signed one for local use (kept in the named volume,
# so it survives restarts). In production mount the real tls.crt and tls.key there instead.
set -eu
dir=/etc/nginx/certs
if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ]; then
  echo "flock: using the certificate in $dir"
  exit 0
fi
echo "flock: no certificate in $dir, generating a self-signed one for ${FLOCK_TLS_HOSTNAME:-localhost}"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
  -subj "/CN=${FLOCK_TLS_HOSTNAME:-localhost}" \
  -addext "subjectAltName=DNS:${FLOCK_TLS_HOSTNAME:-localhost},DNS:localhost,DNS:nginx,IP:127.0.0.1" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
chmod 600 "$dir/tls.key"
