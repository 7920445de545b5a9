"""A whole Whereabouts site on one machine, on loopback: what `make cluster` starts.

    python deploy/cluster.py up [--fresh]   start everything (reusing what is already there)
    python deploy/cluster.py down           stop everything, keep the data
    python deploy/cluster.py destroy        stop everything and delete the data
    python deploy/cluster.py status         what answers

What runs, each on 127.0.0.1:
- PostgreSQL primary (port 5440) and a streaming replica of it (port 5441): two clusters of
  Debian's PostgreSQL made with pg_createcluster, the replica copied with pg_basebackup;
- Redis (port 6390), the cache every app server shares (CACHE_URL);
- an S3-compatible store (port 9100, moto's server) for the documents and data releases (S3_BUCKET);
- two app servers, gunicorn on ports 8101 and 8102, each with its own temporary folder;
- nginx on port 8100 in front of both (deploy/nginx/proxy.conf, the same file a real server includes).

Everything this script writes lives in .cluster/ in the checkout, and the PostgreSQL clusters in
Debian's place for them (/var/lib/postgresql/VERSION/whereabouts-primary and -replica). It needs
Debian's postgresql, nginx and redis-server packages (installed when missing) and root, which
Debian's PostgreSQL tools need to create clusters. It prints the addresses and a staff account.
The state it leaves in .cluster/cluster.json is what the integration test (tests/cluster/) reads.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cluster"
PYTHON = ROOT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
PORTS = {"nginx": 8100, "a": 8101, "b": 8102, "primary": 5440, "replica": 5441, "redis": 6390, "s3": 9100}
APP_SERVERS = ("a", "b")
DATABASE = "whereabouts"
BUCKET = "whereabouts-cluster"
PRIMARY, REPLICA = "whereabouts-primary", "whereabouts-replica"


def say(message: str) -> None:
    print(f"cluster: {message}", flush=True)


def run(*command: str, env: dict | None = None, quiet: bool = False) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603 (fixed commands)
    if result.returncode != 0:
        sys.exit(f"cluster: {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    if not quiet and result.stdout.strip():
        print(result.stdout.rstrip(), flush=True)
    return result.stdout


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def wait_for(port: int, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not answers(port):
        if time.monotonic() > deadline:
            sys.exit(f"cluster: {what} did not answer on {HOST}:{port} within {seconds:.0f} s (logs in {STATE}).")
        time.sleep(0.2)


def apt_install(command: str, package: str) -> None:
    if shutil.which(command) is None and not Path(command).exists():
        say(f"installing {package} (Debian package)")
        run("apt-get", "update", "-qq", quiet=True)
        run("apt-get", "install", "-y", "-qq", package, quiet=True)


# --- PostgreSQL: a primary and its streaming replica ---------------------------------------


def pg_version() -> str:
    versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda path: int(path.name))
    return versions[-1].name


def clusters() -> dict[str, str]:
    """Debian's clusters of this version: name → status ("online", "down", …)."""
    listing = run("pg_lsclusters", "--no-header", quiet=True)
    found = {}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == pg_version():
            found[fields[1]] = fields[3]
    return found


def data_dir(name: str) -> Path:
    return Path("/var/lib/postgresql") / pg_version() / name


def conf_dir(name: str) -> Path:
    return Path("/etc/postgresql") / pg_version() / name


def as_postgres(*command: str) -> str:
    return run("runuser", "-u", "postgres", "--", *command, quiet=True)


def start_primary() -> None:
    version = pg_version()
    if PRIMARY not in clusters():
        say(f"creating the PostgreSQL primary ({PRIMARY}, port {PORTS['primary']})")
        run("pg_createcluster", version, PRIMARY, "--port", str(PORTS["primary"]), quiet=True)
        # Loopback only, and trusted there, as this machine's own PostgreSQL; a real primary uses
        # passwords or certificates (README, "Running on several servers").
        (conf_dir(PRIMARY) / "pg_hba.conf").write_text(
            "local all all trust\nlocal replication all trust\n"
            "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
        )
        with (conf_dir(PRIMARY) / "postgresql.conf").open("a") as conf:
            conf.write("\nlisten_addresses = '127.0.0.1'\nwal_level = replica\nmax_wal_senders = 5\n")
    if clusters()[PRIMARY] != "online":
        run("pg_ctlcluster", "--skip-systemctl-redirect", version, PRIMARY, "start")
    wait_for(PORTS["primary"], "the PostgreSQL primary")
    query = f"select 1 from pg_database where datname = '{DATABASE}'"  # noqa: S608 (a constant name)
    exists = as_postgres("psql", "-h", HOST, "-p", str(PORTS["primary"]), "-tAc", query)
    if not exists.strip():
        as_postgres("createdb", "-h", HOST, "-p", str(PORTS["primary"]), DATABASE)


def start_replica() -> None:
    version = pg_version()
    if REPLICA not in clusters():
        say(f"copying the primary into a streaming replica ({REPLICA}, port {PORTS['replica']})")
        run("pg_createcluster", version, REPLICA, "--port", str(PORTS["replica"]), quiet=True)
        shutil.copy(conf_dir(PRIMARY) / "pg_hba.conf", conf_dir(REPLICA) / "pg_hba.conf")
        with (conf_dir(REPLICA) / "postgresql.conf").open("a") as conf:
            conf.write("\nlisten_addresses = '127.0.0.1'\nhot_standby = on\n")
        target = data_dir(REPLICA)
        for path in target.iterdir():  # emptied, kept: the folder is the postgres user's
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        # -R writes standby.signal and the connection to the primary: the copy follows it from then on.
        as_postgres(
            "pg_basebackup", "-h", HOST, "-p", str(PORTS["primary"]), "-U", "postgres",
            "-D", str(target), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
    if clusters()[REPLICA] != "online":
        run("pg_ctlcluster", "--skip-systemctl-redirect", version, REPLICA, "start")
    wait_for(PORTS["replica"], "the PostgreSQL replica")


def stop_postgresql(destroy: bool) -> None:
    version = pg_version()
    present = clusters()
    for name in (REPLICA, PRIMARY):
        if name not in present:
            continue
        if destroy:
            run("pg_dropcluster", "--stop", version, name)
        elif present[name] == "online":
            run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop")


# --- Redis, the S3 store, the app servers and nginx: processes with a pid file ------------


def pid_file(name: str) -> Path:
    return STATE / f"{name}.pid"


def running(name: str) -> bool:
    try:
        pid = int(pid_file(name).read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True


def stop(name: str) -> None:
    if not running(name):
        pid_file(name).unlink(missing_ok=True)
        return
    pid = int(pid_file(name).read_text().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    pid_file(name).unlink(missing_ok=True)


def spawn(name: str, command: list[str], env: dict | None = None) -> None:
    """Start ``command`` in the background, its output in .cluster/NAME.log, its pid in .cluster/NAME.pid."""
    log = (STATE / f"{name}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 (fixed commands)
        command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    pid_file(name).write_text(str(process.pid))


def start_redis() -> None:
    apt_install("redis-server", "redis-server")
    if not running("redis"):
        command = ["redis-server", "--bind", HOST, "--port", str(PORTS["redis"]), "--save", "", "--appendonly", "no"]
        spawn("redis", command)
    wait_for(PORTS["redis"], "Redis")


def start_s3() -> None:
    if not running("s3"):
        spawn("s3", [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", HOST, "-p", str(PORTS["s3"])])
    wait_for(PORTS["s3"], "the S3 store")
    endpoint = f"http://{HOST}:{PORTS['s3']}"
    code = (
        f"import boto3; s3 = boto3.client('s3', endpoint_url={endpoint!r}, region_name='us-east-1',"
        " aws_access_key_id='cluster', aws_secret_access_key='cluster');"
        " names = [b['Name'] for b in s3.list_buckets()['Buckets']];"
        f" {BUCKET!r} in names or s3.create_bucket(Bucket={BUCKET!r})"
    )
    run(str(PYTHON), "-c", code)


def secret_key() -> str:
    path = STATE / "secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def app_environment(server: str | None = None) -> dict[str, str]:
    """The settings every app server shares (and the management commands run with)."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secret_key(),
        ALLOWED_HOSTS=f"{HOST},localhost",
        HTTPS="0",
        TRUSTED_PROXY_COUNT="1",
        DATABASE_URL=f"postgres://postgres@{HOST}:{PORTS['primary']}/{DATABASE}",
        DATABASE_REPLICA_URL=f"postgres://postgres@{HOST}:{PORTS['replica']}/{DATABASE}",
        CACHE_URL=f"redis://{HOST}:{PORTS['redis']}/0",
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=f"http://{HOST}:{PORTS['s3']}",
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="cluster",
        S3_SECRET_ACCESS_KEY="cluster",  # noqa: S106 (moto's local store takes any key)
        STATIC_ROOT=str(STATE / "static"),
        LOG_LEVEL="WARNING",
    )
    if server is not None:
        # Each server its own temporary folder, as on separate machines.
        tmp = STATE / f"tmp-{server}"
        tmp.mkdir(mode=0o700, exist_ok=True)
        env["TMPDIR"] = str(tmp)
    return env


def manage(*arguments: str) -> str:
    return run(str(PYTHON), str(ROOT / "manage.py"), *arguments, env=app_environment())


def start_app_servers() -> None:
    for server in APP_SERVERS:
        if running(f"app-{server}"):
            continue
        port = PORTS[server]
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "casetracker.wsgi",
            "--chdir", str(ROOT),
            "--bind", f"{HOST}:{port}",
            "--workers", "2",
            "--access-logfile", str(STATE / f"app-{server}-access.log"),
        ]  # fmt: skip
        spawn(f"app-{server}", command, env=app_environment(server))
    for server in APP_SERVERS:
        wait_for(PORTS[server], f"app server {server}")


def nginx_user() -> str:
    """The user nginx's workers run as when started by root (Debian's www-data)."""
    return "www-data" if os.geteuid() == 0 else ""


def start_nginx() -> None:
    apt_install("/usr/sbin/nginx", "nginx")
    folder = STATE / "nginx"
    for part in ("client_body", "proxy", "logs"):
        (folder / part).mkdir(parents=True, exist_ok=True)
        if nginx_user():
            shutil.chown(folder / part, nginx_user())
    upstreams = "\n".join(f"        server {HOST}:{PORTS[name]} max_fails=3 fail_timeout=10s;" for name in APP_SERVERS)
    user = f"user {nginx_user()};\n" if nginx_user() else ""
    (folder / "nginx.conf").write_text(
        f"""# Written by deploy/cluster.py: the loopback cluster's nginx.
{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/logs/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/proxy;
    uwsgi_temp_path {folder}/proxy;
    scgi_temp_path {folder}/proxy;
    upstream whereabouts {{
{upstreams}
        keepalive 8;
    }}
    server {{
        listen {HOST}:{PORTS["nginx"]};
        server_name localhost;
        include {ROOT}/deploy/nginx/proxy.conf;
    }}
}}
"""
    )
    run("/usr/sbin/nginx", "-t", "-q", "-p", str(folder), "-c", str(folder / "nginx.conf"))
    if not running("nginx"):
        spawn("nginx", ["/usr/sbin/nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")])
    wait_for(PORTS["nginx"], "nginx")


STAFF_SCRIPT = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
user, _ = get_user_model().objects.get_or_create(username="cluster-editor", defaults={"is_staff": True})
user.is_staff = True
user.set_password(PASSWORD)
user.save()
user.groups.add(Group.objects.get(name="Editor"))
"""


def up(fresh: bool) -> None:
    if os.geteuid() != 0:
        sys.exit("cluster: run as root (Debian's PostgreSQL tools create the clusters), e.g. sudo make cluster.")
    if fresh:
        destroy()
    STATE.mkdir(mode=0o700, exist_ok=True)
    apt_install("pg_createcluster", "postgresql")
    start_primary()
    start_replica()
    say("migrating the primary and loading the seed data (the replica follows)")
    manage("migrate", "--no-input", "--verbosity", "0")
    manage("load_seed")
    start_redis()
    start_s3()
    manage("collectstatic", "--no-input", "--verbosity", "0")
    password_file = STATE / "staff-password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    manage("shell", "--no-imports", "-c", f"PASSWORD = {password!r}\n" + STAFF_SCRIPT)
    start_app_servers()
    start_nginx()
    state = {
        "url": f"http://{HOST}:{PORTS['nginx']}",
        "servers": {server: f"http://{HOST}:{PORTS[server]}" for server in APP_SERVERS},
        "primary": f"postgres://postgres@{HOST}:{PORTS['primary']}/{DATABASE}",
        "replica": f"postgres://postgres@{HOST}:{PORTS['replica']}/{DATABASE}",
        "environment": app_environment(),
        "staff": {"username": "cluster-editor", "password_file": str(password_file)},
    }
    (STATE / "cluster.json").write_text(json.dumps(state, indent=2))
    (STATE / "cluster.json").chmod(0o600)
    say(f"the site: {state['url']}/ (app servers {', '.join(state['servers'].values())})")
    say(f"staff: cluster-editor, password in {password_file}; two-factor set-up at the first sign-in")
    say("stop with: make cluster-stop (keeps the data) or python deploy/cluster.py destroy")


def down() -> None:
    for name in ("nginx", *(f"app-{server}" for server in APP_SERVERS), "s3", "redis"):
        stop(name)
    if shutil.which("pg_lsclusters"):
        stop_postgresql(destroy=False)
    say("stopped")


def destroy() -> None:
    down()
    if shutil.which("pg_lsclusters"):
        stop_postgresql(destroy=True)
    shutil.rmtree(STATE, ignore_errors=True)
    say("destroyed")


def status() -> None:
    for name, port in PORTS.items():
        print(f"{name:8} {HOST}:{port} {'answers' if answers(port) else 'does not answer'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down", "destroy", "status"])
    parser.add_argument("--fresh", action="store_true", help="destroy what an earlier cluster left first")
    arguments = parser.parse_args()
    if arguments.action == "up":
        up(arguments.fresh)
    elif arguments.action == "down":
        down()
    elif arguments.action == "destroy":
        destroy()
    else:
        status()


if __name__ == "__main__":
    main()
