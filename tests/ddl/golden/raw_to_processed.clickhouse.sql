CREATE TABLE IF NOT EXISTS `ProcessedTable`
(
    `id` String,
    `value` Float64,
    `timestamp` DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY (`id`, `timestamp`);

CREATE TABLE IF NOT EXISTS `RawTable`
(
    `id` String,
    `data` String,
    `source` Enum8('web' = 1, 'ios' = 2, 'android' = 3),
    `amount` Nullable(Float64),
    `tags` Array(String),
    `timestamp` DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY (`id`);
