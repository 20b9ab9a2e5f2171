CREATE TABLE IF NOT EXISTS "ProcessedTable" (
    "id" TEXT NOT NULL,
    "value" REAL NOT NULL,
    "timestamp" TEXT NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "RawTable" (
    "id" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "amount" REAL,
    "tags" TEXT NOT NULL,
    "timestamp" TEXT NOT NULL,
    PRIMARY KEY ("id")
);
