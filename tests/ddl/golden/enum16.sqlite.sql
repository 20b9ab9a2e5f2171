CREATE TABLE IF NOT EXISTS "WideTable" (
    "id" INTEGER NOT NULL,
    "choice" TEXT NOT NULL,
    PRIMARY KEY ("id")
);
