-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_SecurityAlert" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "tenantId" INTEGER NOT NULL,
    "userId" INTEGER,
    "kind" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "SecurityAlert_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_SecurityAlert" ("createdAt", "id", "kind", "tenantId", "userId") SELECT "createdAt", "id", "kind", "tenantId", "userId" FROM "SecurityAlert";
DROP TABLE "SecurityAlert";
ALTER TABLE "new_SecurityAlert" RENAME TO "SecurityAlert";
CREATE INDEX "SecurityAlert_tenantId_idx" ON "SecurityAlert"("tenantId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
