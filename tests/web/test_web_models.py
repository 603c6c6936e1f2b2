"""The Models section of the admin page: what is registered, what serves, switching."""


def test_an_admin_switches_the_serving_model_on_the_admin_page(world, model_dir):
    registry = world.services.models
    registry.add(next(model_dir.glob("*.gguf")), "house-model", "ops")
    try:
        assert world.logged_in("carol").post("/admin/models/house-model/activate") \
            .status_code == 403
        admin = world.logged_in("admin")
        page = admin.get("/admin").text
        assert 'id="model-house-model"' in page and "gemma3" in page
        page = admin.post("/admin/models/house-model/activate")
        assert page.status_code == 200 and "Now serving house-model" in page.text
        assert registry.active().name == "house-model"
        assert admin.post("/admin/models/nope/activate").status_code == 404
        admin.post("/admin/models/bundled/activate")
        assert registry.active() is None
    finally:
        registry.activate("bundled", "ops")
        registry.remove("house-model", "ops")
