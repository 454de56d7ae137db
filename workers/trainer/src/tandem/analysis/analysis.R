#!/usr/bin/env Rscript
# The study dashboard's mixed-effects model with lme4, from the analysis bundle's responses.csv:
#
#   Rscript analysis.R responses.csv
#
# Same rows as analysis.py (responses with a verdict, participants not excluded), same model (logistic, crossed
# random intercepts for participant and problem), same criterion (maximum likelihood, Laplace approximation:
# glmer's default nAGQ = 1) and the same reference condition (the first by name whose algorithm is GRPO, else the
# first by name, names in code-point order). Estimates agree with analysis.py's to about three decimals; glmer's
# standard errors take the random-effect SDs as known, so they can be a few percent smaller than analysis.py's.
# Needs lme4; uses emmeans for the per-condition accuracies when it is installed.

suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript analysis.R responses.csv")

flag <- function(x, column) {
  # a true/false column as written by the export ("true"/"false", empty = null)
  text <- tolower(trimws(as.character(x)))
  text[is.na(text)] <- ""
  bad <- !(text %in% c("true", "false", "1", "0", "t", "f", ""))
  if (any(bad)) stop(sprintf("column '%s': %s is not true or false", column, text[which(bad)[1]]))
  ifelse(text == "", NA, text %in% c("true", "1", "t"))
}

raw <- read.csv(args[1], colClasses = "character", na.strings = character(0), check.names = FALSE,
                encoding = "UTF-8")
needed <- c("participant_id", "problem_id", "condition_name", "algorithm", "correct", "excluded")
missing <- setdiff(needed, names(raw))
if (length(missing) > 0) stop("responses.csv has no column ", paste(missing, collapse = ", "))
correct <- flag(raw$correct, "correct")
excluded <- flag(raw$excluded, "excluded")
rows <- raw[!is.na(correct) & !(excluded %in% TRUE), ]
rows$correct <- as.integer(correct[!is.na(correct) & !(excluded %in% TRUE)])
if (nrow(rows) == 0) stop("no verified responses from participants who were not excluded")

conditions <- sort(unique(rows$condition_name), method = "radix")  # code-point order, as Python's sorted()
if (length(conditions) < 2) stop("verified responses in fewer than 2 conditions: nothing to compare")
grpo <- sort(unique(rows$condition_name[rows$algorithm == "GRPO"]), method = "radix")
reference <- if (length(grpo) > 0) grpo[1] else conditions[1]
rows$condition <- relevel(factor(rows$condition_name, levels = conditions), ref = reference)
rows$participant_id <- factor(rows$participant_id)
rows$problem_id <- factor(rows$problem_id)

model <- glmer(correct ~ condition + (1 | participant_id) + (1 | problem_id), data = rows, family = binomial)

cat(sprintf("Mixed-effects model (lme4 %s): correct ~ condition + (1|participant) + (1|problem)\n",
            packageVersion("lme4")))
cat(sprintf("%d verified responses, %d participants, %d problems; reference condition: %s\n\n",
            nrow(rows), nlevels(rows$participant_id), nlevels(rows$problem_id), reference))

# per-condition accuracy at random effects 0, with a 95% Wald interval on the log-odds scale
beta <- fixef(model)
V <- as.matrix(vcov(model))
z <- qnorm(0.975)
if (requireNamespace("emmeans", quietly = TRUE)) {
  cells <- as.data.frame(summary(emmeans::emmeans(model, ~ condition), infer = TRUE, level = 0.95))
  accuracy <- data.frame(condition = as.character(cells$condition), logOdds = cells$emmean, se = cells$SE)
} else {
  accuracy <- do.call(rbind, lapply(levels(rows$condition), function(name) {
    L <- setNames(numeric(length(beta)), names(beta))
    L["(Intercept)"] <- 1
    if (name != reference) L[paste0("condition", name)] <- 1
    data.frame(condition = name, logOdds = sum(L * beta), se = sqrt(drop(t(L) %*% V %*% L)))
  }))
}
accuracy <- accuracy[order(match(accuracy$condition, conditions)), ]
accuracy$accuracy <- plogis(accuracy$logOdds)
accuracy$low <- plogis(accuracy$logOdds - z * accuracy$se)
accuracy$high <- plogis(accuracy$logOdds + z * accuracy$se)
cat("Accuracy by condition (probability correct at random effects 0, 95% Wald interval)\n")
print(accuracy[, c("condition", "accuracy", "low", "high", "logOdds", "se")], row.names = FALSE, digits = 6)

# each condition against the reference: odds ratio, 95% Wald interval, Wald p
terms <- setdiff(names(beta), "(Intercept)")
se <- sqrt(diag(V))[terms]
effects <- data.frame(condition = sub("^condition", "", terms), versus = reference,
                      oddsRatio = exp(beta[terms]), low = exp(beta[terms] - z * se),
                      high = exp(beta[terms] + z * se), logOdds = beta[terms], se = se,
                      p = 2 * pnorm(-abs(beta[terms] / se)))
effects <- effects[order(match(effects$condition, conditions)), ]
cat("\nEffects (odds ratio against the reference, 95% Wald interval)\n")
print(effects, row.names = FALSE, digits = 6)

sds <- as.data.frame(VarCorr(model))
cat(sprintf("\nrandom intercept SDs (log-odds): participant %.4f, problem %.4f\n",
            sds$sdcor[sds$grp == "participant_id"], sds$sdcor[sds$grp == "problem_id"]))
cat(sprintf("deviance (-2 log-likelihood, Laplace): %.4f\n", -2 * as.numeric(logLik(model))))
if (isSingular(model)) cat("warning: singular fit (a random-effect SD is estimated at 0)\n")
