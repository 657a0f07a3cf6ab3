"""A database file deleted or replaced under the running daemons (issue 14)
is noticed within seconds: kumo-api and kumo-scheduler each say so once at
error level and exit non-zero (systemd restarts them on the file that is
there now) instead of recording the cloud's state into a ghost."""
import os
import shutil

import pytest

from kumocloud import wait_for


def replace(path):
    shutil.copyfile(path, path + ".new")
    os.rename(path + ".new", path)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_database_file_gone_stops_the_daemons(make_cloud, how):
    cloud = make_cloud(computes=1)
    image = cloud.create_image()
    db = os.path.join(cloud.dir, "kumo.db")
    if how == "deleted":
        os.unlink(db)
    else:
        replace(db)

    for name, binary in (("api", "kumo-api"), ("scheduler", "kumo-scheduler")):
        d = cloud.daemons[name]
        wait_for(lambda: d.proc.poll() is not None, 20, what="%s to stop" % binary)
        assert d.proc.returncode != 0
        line = "%s was deleted or replaced under %s: stopping" % (db, binary)
        assert d.log_text().count(line) == 1, d.log_text()[-2000:]
        assert "ERROR" in [l for l in d.log_text().splitlines() if line in l][0]
        cloud.daemons.pop(name)
        cloud.check_log(d)

    # Nothing answers writes any more.
    with pytest.raises(OSError):
        cloud.post("/v2.1/servers", body={"server": {
            "name": "vm-ghost", "imageRef": image, "flavorRef": "1"}})
