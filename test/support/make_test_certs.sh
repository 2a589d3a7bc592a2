#!/usr/bin/env bash
# Makes throwaway certificates for the TLS tests, in DIR (created):
#   ca.pem ca.key                 the test CA
#   server.pem server.key         signed by ca, for localhost and 127.0.0.1
#   client.pem client.key         signed by ca, CN=alice (mTLS)
#   other-ca.pem other-ca.key     a second CA nobody trusts
#   other-server.pem other-server.key  signed by other-ca (the "wrong CA" tests)
#   other-client.pem other-client.key  signed by other-ca
# EC P-256 keys: quick to make. Valid for a day; tests make them fresh.
# Usage: test/support/make_test_certs.sh DIR
set -euo pipefail
dir="${1:?usage: make_test_certs.sh DIR}"
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

ca() {  # ca NAME
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=grpc-chat test $1" -days 1 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem" 2>/dev/null
}

leaf() {  # leaf NAME CA CN EXTENSIONS
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 1 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext='subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth'
client_ext='extendedKeyUsage=clientAuth'

ca ca
ca other-ca
leaf server ca localhost "$server_ext"
leaf client ca alice "$client_ext"
leaf other-server other-ca localhost "$server_ext"
leaf other-client other-ca mallory "$client_ext"
rm -f ./*.srl
