-- AlterTable
ALTER TABLE "assignments" ADD COLUMN     "live_lease_expires_at" TIMESTAMP(3),
ADD COLUMN     "live_lease_id" TEXT;

-- AlterTable
ALTER TABLE "participants" ADD COLUMN     "early_timeout_claims" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "studies" ADD COLUMN     "max_participants" INTEGER;

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "session_version" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "study_collaborators" (
    "study_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "added_by_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "study_collaborators_pkey" PRIMARY KEY ("study_id","user_id")
);

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "study_collaborators_user_id_idx" ON "study_collaborators"("user_id");

-- CreateIndex
CREATE INDEX "rate_limits_expire_idx" ON "rate_limits"("expire");

-- AddForeignKey
ALTER TABLE "study_collaborators" ADD CONSTRAINT "study_collaborators_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "studies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_collaborators" ADD CONSTRAINT "study_collaborators_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "study_collaborators" ADD CONSTRAINT "study_collaborators_added_by_id_fkey" FOREIGN KEY ("added_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
