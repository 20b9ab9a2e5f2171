CREATE TABLE IF NOT EXISTS "Latest" (
    "sensor" INTEGER NOT NULL,
    "at" TEXT NOT NULL,
    "value" REAL NOT NULL,
    PRIMARY KEY ("sensor")
);

CREATE TABLE IF NOT EXISTS "History" (
    "sensor" INTEGER NOT NULL,
    "at" TEXT NOT NULL,
    "value" REAL NOT NULL,
    PRIMARY KEY ("sensor")
);

CREATE TABLE IF NOT EXISTS "EveryReading" (
    "sensor" INTEGER NOT NULL,
    "at" TEXT NOT NULL,
    "value" REAL NOT NULL,
    PRIMARY KEY ("sensor")
);

CREATE TABLE IF NOT EXISTS "Logs" (
    "at" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "message" TEXT NOT NULL
);
