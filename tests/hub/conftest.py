from tests.mqtt_fixtures import bus, embedded_broker, mosquitto_broker, mqtt_broker  # noqa: F401
