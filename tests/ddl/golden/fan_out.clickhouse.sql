CREATE TABLE IF NOT EXISTS `Invoices`
(
    `id` String,
    `long` Int64,
    `tags` Array(String),
    `customer` String,
    `total` Decimal(12, 2),
    `note` Nullable(String),
    `status` Enum8('new' = 1, 'paid' = 2)
)
ENGINE = ReplacingMergeTree()
ORDER BY (`id`);

CREATE TABLE IF NOT EXISTS `AuditLog`
(
    `id` String,
    `message` String,
    `at` Nullable(DateTime64(6, 'UTC'))
)
ENGINE = ReplacingMergeTree()
ORDER BY (`id`);
