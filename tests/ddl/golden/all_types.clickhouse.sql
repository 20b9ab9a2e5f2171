CREATE TABLE IF NOT EXISTS `EverythingTable`
(
    `id` UUID,
    `name` String,
    `active` Bool,
    `i8` Int8,
    `i16` Int16,
    `i32` Int32,
    `i64` Int64,
    `u8` UInt8,
    `u16` UInt16,
    `u32` UInt32,
    `u64` UInt64,
    `f32` Float32,
    `f64` Float64,
    `at` DateTime64(6, 'UTC'),
    `day` Date32,
    `price` Decimal(18, 4),
    `level` Enum8('low' = 1, 'it\'s high' = 2, 'back\\slash' = 3),
    `note` Nullable(String),
    `count` Nullable(Int64),
    `seen` Nullable(DateTime64(6, 'UTC')),
    `scores` Array(Int32),
    `labels` Array(String),
    `home` String,
    `work` Nullable(String),
    `past` String,
    `table` String,
    `stream` Nullable(Bool)
)
ENGINE = ReplacingMergeTree()
ORDER BY (`id`);
