def test_x(client, auth, users, content):
    auth.login(users.admin)
    r = client.get("/courses/intro")
    print(r.status_code, r.get_data(as_text=True)[-800:])
