def test_smoke(admin_client, operator_client, anon_client, camera):
    assert admin_client.get("/admin/").status_code == 200
    assert operator_client.get("/admin/").status_code == 403
    r = anon_client.get("/admin/")
    assert r.status_code == 302
