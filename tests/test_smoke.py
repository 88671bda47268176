def test_it_serves_the_portal_landing_page_of_each_practice(sunrise_client, harbor_client):
    assert b"Sunrise Therapy" in sunrise_client.get("/").content
    assert b"Harbor Counseling" in harbor_client.get("/").content
