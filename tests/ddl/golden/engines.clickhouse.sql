CREATE TABLE IF NOT EXISTS `Latest`
(
    `sensor` Int64,
    `at` DateTime64(6, 'UTC'),
    `value` Float64
)
ENGINE = ReplacingMergeTree()
ORDER BY (`sensor`);

CREATE TABLE IF NOT EXISTS `History`
(
    `sensor` Int64,
    `at` DateTime64(6, 'UTC'),
    `value` Float64
)
ENGINE = ReplacingMergeTree()
ORDER BY (`sensor`, `at`);

CREATE TABLE IF NOT EXISTS `EveryReading`
(
    `sensor` Int64,
    `at` DateTime64(6, 'UTC'),
    `value` Float64
)
ENGINE = MergeTree()
ORDER BY (`at`);

CREATE TABLE IF NOT EXISTS `Logs`
(
    `at` DateTime64(6, 'UTC'),
    `host` String,
    `message` String
)
ENGINE = MergeTree()
ORDER BY (`host`, `at`);
