"""pyftpdlib server for the 3700ftp interop suite (started by tests/interop/server.rs).

Usage: python3 pyftpd_server.py PORT HOME PASV_LOW PASV_HIGH USER PASSWORD [UID GID]

Listens on 127.0.0.1:PORT in the foreground; one user whose home (and FTP
root: pyftpdlib confines every user to its home, "/" is HOME) is HOME with
all permissions. When UID/GID are given (the harness runs as root), the
process drops to them after binding, so file permissions are enforced by
the kernel exactly as for the other servers (a chmod 0555 directory refuses
uploads); everything the server needs at run time is imported beforehand,
since the interpreter's own files may not be readable by that user.
"""

import logging
import os
import sys

# Imported up front: after setuid the interpreter's library may be unreadable.
import encodings.idna  # noqa: F401
import encodings.latin_1  # noqa: F401
import encodings.utf_8  # noqa: F401
import errno  # noqa: F401
import glob  # noqa: F401
import grp  # noqa: F401
import pwd  # noqa: F401
import stat  # noqa: F401
import time  # noqa: F401
import _strptime  # noqa: F401  (MFMT parses times with time.strptime)

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS  # noqa: F401
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    port = int(sys.argv[1])
    home = sys.argv[2]
    low, high = int(sys.argv[3]), int(sys.argv[4])
    user, password = sys.argv[5], sys.argv[6]
    uid = int(sys.argv[7]) if len(sys.argv) > 7 else None
    gid = int(sys.argv[8]) if len(sys.argv) > 8 else None

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s"
    )

    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, home, perm="elradfmwMT")

    handler = FTPHandler
    handler.authorizer = authorizer
    handler.passive_ports = range(low, high + 1)
    handler.masquerade_address = None
    handler.use_sendfile = False

    server = FTPServer(("127.0.0.1", port), handler)

    if gid is not None:
        os.setgroups([gid])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)

    server.serve_forever()


if __name__ == "__main__":
    main()
