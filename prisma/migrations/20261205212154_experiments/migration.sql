-- AlterEnum
ALTER TYPE "JobKind" ADD VALUE 'EXPERIMENT_REPORT';

-- AlterTable
ALTER TABLE "evaluation_runs" ADD COLUMN     "experiment_id" TEXT;

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "experiment_id" TEXT,
ADD COLUMN     "priority" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "training_runs" ADD COLUMN     "arm_name" TEXT,
ADD COLUMN     "experiment_id" TEXT;

-- CreateTable
CREATE TABLE "experiments" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    "base_model_id" TEXT NOT NULL,
    "junior_model_id" TEXT,
    "dataset_id" TEXT NOT NULL,
    "eval_dataset_id" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "arms" JSONB NOT NULL,
    "seeds" INTEGER[],
    "evaluation" JSONB NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "report" JSONB,
    "reported_at" TIMESTAMP(3),
    "cloned_from_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "experiments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_samples" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "group_index" INTEGER NOT NULL,
    "sample_index" INTEGER NOT NULL,
    "prompt" TEXT NOT NULL,
    "completion" TEXT NOT NULL,
    "spans" JSONB NOT NULL,
    "reward" DOUBLE PRECISION NOT NULL,
    "verdict" "Verdict",
    "advantage" DOUBLE PRECISION,
    "zero_signal" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollout_samples_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "experiments_owner_id_created_at_idx" ON "experiments"("owner_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_samples_run_id_step_group_index_sample_index_key" ON "rollout_samples"("run_id", "step", "group_index", "sample_index");

-- CreateIndex
CREATE INDEX "training_runs_experiment_id_idx" ON "training_runs"("experiment_id");

-- AddForeignKey
ALTER TABLE "training_runs" ADD CONSTRAINT "training_runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_base_model_id_fkey" FOREIGN KEY ("base_model_id") REFERENCES "base_models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_junior_model_id_fkey" FOREIGN KEY ("junior_model_id") REFERENCES "base_models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_eval_dataset_id_fkey" FOREIGN KEY ("eval_dataset_id") REFERENCES "datasets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_cloned_from_id_fkey" FOREIGN KEY ("cloned_from_id") REFERENCES "experiments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_samples" ADD CONSTRAINT "rollout_samples_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "training_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "evaluation_runs" ADD CONSTRAINT "evaluation_runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
