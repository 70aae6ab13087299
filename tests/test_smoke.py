def test_landing_page_explains_registration_versus_certification(client, db):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Registration is not certification" in body
    assert "Apply for ISO 50001" in body


def test_submit_flow_with_fixtures(registered):
    assert registered.registration_number.startswith("REG-")
