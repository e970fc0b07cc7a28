# Reference values for factor analysis, computed with R.
#
# Run from the repository root:
#
#     Rscript tests/reference/factor_reference.R [JSON path [text path]]
#
# By default it writes, next to this script,
#
#   factor_reference.json     the reference values described below
#   factanal_ability_cov.txt  the printed factanal() output of the example in
#                             R's help page ?ability.cov, exactly as R prints it
#
# Needs R with the packages psych, GPArotation and lavaan (nothing else; the
# JSON is written by the small writer below, with 17 significant digits, so
# that every double survives the round trip exactly).
#
# All data are read from the CSV files bundled with the Python package
# (lvm/datasets/data/), so that R and Python see exactly the same numbers.
# The script checks that these files equal the copies shipped with R and its
# packages (section "data_checks") and stops if they do not.
#
# JSON conventions
# ----------------
#   matrix        {"rownames": [...], "colnames": [...], "data": [[row 1], [row 2], ...]}
#                 (row-major; a name list is null when R has no names)
#   named vector  {"names": [...], "values": [...]}
#   scalar        a number, string or boolean
#   missing       null (R's NA, NaN and +-Inf are all written as null;
#                 an R NULL, i.e. "not returned by R", is also null)
#   "call"        the exact R code that produced an entry (evaluated as written)
#
# Top-level keys
# --------------
#   versions         R, package and LAPACK/BLAS versions; the random seed used
#   data_checks      equality of the bundled CSVs with R's own data sets
#   factanal_ability stats::factanal on covmat = ability.cov (n.obs = 112),
#                    factors = 1 and 2: STATISTIC, dof, PVAL, uniquenesses,
#                    objective, converged, correlation, loadings for rotation
#                    "none", "varimax" (default) and, for 2 factors, "promax"
#                    (with rotmat and the factor correlations that
#                    print.factanal shows), plus a tightly converged fit.
#   factanal_hs      stats::factanal(hs9, factors = 3) with rotation "none",
#                    "varimax", "promax": the same items plus rotmat; Bartlett
#                    correction factor; a tightly converged fit; regression
#                    and Bartlett scores (301 x 3) of the varimax fit; the raw
#                    unrotated loadings that factanal hands to the rotation
#                    ("unrotated_as_passed_to_rotation") and, per rotation,
#                    "rotmat_relation" (how rotmat maps them to the returned,
#                    sorted and sign-flipped loadings). factanal_ability's
#                    2-factor fits carry the same two items.
#   stats_rotations  rotations applied to the unrotated HS 3-factor loadings
#                    ("input_loadings" = factanal_hs$none$loadings):
#                    stats::varimax (eps 1e-5 and 1e-12, normalize TRUE and
#                    FALSE), stats::promax (m = 4), GPArotation Varimax,
#                    quartimax, oblimin (quartimin, gam = 0), geominQ
#                    (delta = 0.01), GPFoblq(method = "oblimin"), each with
#                    normalize = FALSE and TRUE where it matters, identity start;
#                    and "tight" versions (eps = 1e-7; 1e-8 is not reached
#                    in double precision) of the GPA rotations.
#                    Items: loadings, rotmat or Th, Phi (oblique), f (criterion
#                    value), convergence, iterations.
#   psych_fa         psych::fa on hs9 (nfactors = 3, fm "minres"/"ml",
#                    rotate "none", "varimax", "promax", "oblimin", "quartimax",
#                    "geominQ") and on Harman74 (covmat, n.obs = 145,
#                    nfactors = 4, fm "minres"/"ml", rotate "none", "varimax",
#                    "oblimin"): loadings, Phi, rot_mat, communality,
#                    uniquenesses, STATISTIC, dof, PVAL, objective, chi, RMSEA,
#                    TLI, BIC, SABIC, null model, fit, fit.off, Vaccounted, ...
#   adequacy         psych::KMO and psych::cortest.bartlett on hs9, Harman74
#                    and the 25 bfi items (pairwise-complete correlations).
#   lavaan_hs        lavaan::efa on hs9, 3 factors, ML, rotation "none"
#                    (echelon identification) and "geomin": fit measures,
#                    lambda, theta, psi, implied and sample covariance, and the
#                    ML-canonical loadings derived from the "none" solution.
#   lavaan_bfi       lavaan::efa on the 25 bfi items, 5 factors, ML with
#                    missing = "ml" (FIML), rotation "none": fit measures,
#                    lambda, theta, nu (means), canonical loadings and the
#                    EM estimates of the saturated model (h1 mean and cov).
#
# Default normalisation of the rotation functions used here
# ----------------------------------------------------------
#   stats::varimax(x, normalize = TRUE, eps = 1e-5)   Kaiser row normalisation ON
#       by default; stops when the criterion sum(svd(B)$d) grows by a relative
#       amount < eps (at most 1000 iterations).
#   stats::promax(x, m = 4)   calls stats::varimax(x) (so normalize = TRUE,
#       eps = 1e-5), then the power-m target on the varimax loadings, without
#       any further normalisation.
#   GPArotation::Varimax, quartimax, oblimin, geominQ, GPForth, GPFoblq:
#       normalize = FALSE by default (eps = 1e-5 on the norm of the projected
#       gradient, maxit = 1000, start Tmat = diag(k)).
#   psych::fa: "varimax" = stats::varimax (normalised); "quartimax", "oblimin",
#       "geominQ" = the GPArotation functions with their default
#       normalize = FALSE; "promax" = psych::kaiser(., rotate = "Promax"), i.e.
#       Kaiser normalisation of the rows, psych::Promax (stats::varimax, then
#       the power-4 target on the normalised loadings), then the rows scaled
#       back.
#   lavaan::efa: rotates the standardised loadings (rotation.args std.ov =
#       TRUE), row.weights "none", geomin.epsilon = 0.001, 30 random starts.

suppressPackageStartupMessages({
  library(stats)
  library(psych)
  library(GPArotation)
  library(lavaan)
})

# ---------------------------------------------------------------- paths ----
script_file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- if (length(script_file) == 1L) {
  dirname(normalizePath(script_file))
} else {
  normalizePath(file.path("tests", "reference"))
}
root <- normalizePath(file.path(here, "..", ".."))
data_dir <- file.path(root, "lvm", "datasets", "data")
# Optional arguments: the JSON path, then the text path (by default both go
# next to this script; given only a JSON path, the text goes next to it).
out_args <- commandArgs(trailingOnly = TRUE)
out_json <- if (length(out_args) >= 1L) out_args[[1L]] else file.path(here, "factor_reference.json")
out_txt <- if (length(out_args) >= 2L) {
  out_args[[2L]]
} else {
  file.path(dirname(out_json), "factanal_ability_cov.txt")
}

SEED <- 20240601L

# ---------------------------------------------------------- JSON writer ----
json_string <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  s <- gsub("\t", "\\t", s, fixed = TRUE)
  s <- gsub("\r", "\\r", s, fixed = TRUE)
  paste0("\"", s, "\"")
}

json_atoms <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.character(x)) {
    ifelse(is.na(x), "null", json_string(x))
  } else if (is.logical(x)) {
    ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.numeric(x)) {
    x <- as.double(x)
    ifelse(is.finite(x), sprintf("%.17g", x), "null")
  } else {
    stop("cannot write an object of type ", typeof(x))
  }
}

to_json <- function(x, indent = 0L) {
  pad <- strrep("  ", indent + 1L)
  end <- strrep("  ", indent)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0L) return(if (is.null(names(x))) "[]" else "{}")
    parts <- vapply(x, to_json, "", indent = indent + 1L)
    if (!is.null(names(x))) {
      stopifnot(all(nzchar(names(x))), !anyDuplicated(names(x)))
      parts <- paste0(json_string(names(x)), ": ", parts)
      return(paste0("{\n", paste0(pad, parts, collapse = ",\n"), "\n", end, "}"))
    }
    return(paste0("[\n", paste0(pad, parts, collapse = ",\n"), "\n", end, "]"))
  }
  if (is.matrix(x)) {
    rows <- apply(x, 1L, function(r) paste0("[", paste(json_atoms(r), collapse = ", "), "]"))
    if (nrow(x) == 0L) return("[]")
    return(paste0("[\n", paste0(pad, rows, collapse = ",\n"), "\n", end, "]"))
  }
  if (inherits(x, "AsIs") || length(x) != 1L) {
    return(paste0("[", paste(json_atoms(unclass(x)), collapse = ", "), "]"))
  }
  json_atoms(x)
}

# A matrix, with its names, stored row-major.
M <- function(m) {
  if (is.null(m)) return(NULL)
  m <- unclass(m)
  if (!is.matrix(m)) m <- as.matrix(m)
  rn <- rownames(m)
  cn <- colnames(m)
  list(rownames = if (is.null(rn)) NULL else I(rn),
       colnames = if (is.null(cn)) NULL else I(cn),
       data = unname(m))
}

# A (named) vector.
V <- function(x) {
  if (is.null(x)) return(NULL)
  x <- unclass(x)
  if (is.null(names(x))) return(I(unname(x)))
  list(names = I(names(x)), values = I(unname(x)))
}

# A scalar (drops names).
S <- function(x) if (is.null(x)) NULL else unname(x)[[1L]]

# Evaluate R code given as a string, collecting warnings and messages.
run <- function(code) {
  msgs <- character(0)
  value <- withCallingHandlers(
    eval(parse(text = code), envir = globalenv()),
    warning = function(w) {
      msgs <<- c(msgs, paste("warning:", conditionMessage(w)))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      msgs <<- c(msgs, paste("message:", trimws(conditionMessage(m))))
      invokeRestart("muffleMessage")
    })
  list(value = value, code = code, messages = I(msgs))
}

# ------------------------------------------------------------------ data ----
hs <- read.csv(file.path(data_dir, "holzinger_swineford_1939.csv"))
hs9 <- hs[, paste0("x", 1:9)]
ability_cov <- as.matrix(read.csv(file.path(data_dir, "ability_cov.csv"), row.names = 1))
ability <- list(cov = ability_cov, n.obs = 112)
harman74 <- as.matrix(read.csv(file.path(data_dir, "harman74_cor.csv"),
                               row.names = 1, check.names = FALSE))
bfi_csv <- read.csv(file.path(data_dir, "bfi.csv"))
bfi25 <- bfi_csv[, 1:25]

# ------------------------------------------------------------ data checks ----
lav_hs <- lavaan::HolzingerSwineford1939
psych_bfi <- psych::bfi
data_checks <- list(
  holzinger_swineford_1939 = list(
    compared_with = "lavaan::HolzingerSwineford1939[, paste0(\"x\", 1:9)]",
    n = nrow(hs9),
    identical_x1_x9 = identical(as.matrix(hs9), as.matrix(lav_hs[, paste0("x", 1:9)])),
    max_abs_diff_x1_x9 = max(abs(as.matrix(hs9) - as.matrix(lav_hs[, paste0("x", 1:9)]))),
    identical_id_sex_ageyr_agemo = identical(hs[, c("id", "sex", "ageyr", "agemo")],
                                             lav_hs[, c("id", "sex", "ageyr", "agemo")]),
    school_equal = all(hs$school == as.character(lav_hs$school)),
    grade_equal = isTRUE(all.equal(hs$grade, as.numeric(lav_hs$grade))),
    note = "the CSV stores school as text and grade as a double (NA for one pupil); lavaan stores a factor and an integer"
  ),
  ability_cov = list(
    compared_with = "datasets::ability.cov$cov",
    identical = identical(ability_cov, datasets::ability.cov$cov),
    n_obs_R = datasets::ability.cov$n.obs,
    n_obs_used = ability$n.obs
  ),
  harman74_cor = list(
    compared_with = "datasets::Harman74.cor$cov",
    identical = identical(harman74, datasets::Harman74.cor$cov),
    n_obs_R = datasets::Harman74.cor$n.obs,
    n_obs_used = 145
  ),
  bfi = list(
    compared_with = "psych::bfi[, 1:25] (integers in R, doubles in the CSV)",
    equal_values_items = isTRUE(all.equal(bfi25, psych_bfi[, 1:25], tolerance = 0,
                                          check.attributes = FALSE)),
    same_NA_pattern = identical(unname(is.na(as.matrix(bfi25))), unname(is.na(as.matrix(psych_bfi[, 1:25])))),
    equal_values_gender_education_age = isTRUE(all.equal(bfi_csv[, 26:28], psych_bfi[, 26:28],
                                                         tolerance = 0, check.attributes = FALSE)),
    n = nrow(bfi25),
    n_missing_item_cells = sum(is.na(bfi25)),
    n_complete_rows_items = sum(complete.cases(bfi25)),
    n_rows_all_items_missing = sum(rowSums(is.na(bfi25)) == 25L)
  )
)
stopifnot(data_checks$holzinger_swineford_1939$identical_x1_x9,
          data_checks$ability_cov$identical,
          data_checks$harman74_cor$identical,
          data_checks$bfi$equal_values_items,
          data_checks$bfi$same_NA_pattern)

# --------------------------------------------- printed factanal example ----
# The example of ?ability.cov, with R's own ability.cov (checked above to be
# identical to the bundled CSV).
txt_calls <- c(
  "factanal(factors = 1, covmat = ability.cov)",
  "factanal(factors = 2, covmat = ability.cov)",
  "factanal(factors = 2, covmat = ability.cov, rotation = \"promax\")"
)
txt <- unlist(lapply(txt_calls, function(code) {
  c(paste(">", code), capture.output(print(eval(parse(text = code), envir = globalenv()))), "")
}))
writeLines(txt, out_txt)

# -------------------------------------------------------------- factanal ----
factanal_items <- function(fit, code, messages = character(0)) {
  out <- list(
    call = code,
    converged = fit$converged,
    n_obs = fit$n.obs,
    factors = fit$factors,
    dof = fit$dof,
    STATISTIC = S(fit$STATISTIC),
    PVAL = S(fit$PVAL),
    objective = S(fit$criteria["objective"]),
    counts = V(fit$criteria[c("counts.function", "counts.gradient")]),
    uniquenesses = V(fit$uniquenesses),
    loadings = M(fit$loadings),
    rotmat = M(fit$rotmat)
  )
  if (!is.null(fit$rotmat)) {
    tmat <- solve(fit$rotmat)
    R <- tmat %*% t(tmat)
    rownames(R) <- colnames(R) <- paste0("Factor", seq_len(fit$factors))
    out$factor_correlations_as_printed <- M(R)
  }
  out$messages <- I(messages)
  out
}

fa_run <- function(code) {
  r <- run(code)
  factanal_items(r$value, code, r$messages)
}

TIGHT <- "control = list(opt = list(factr = 1, pgtol = 0, maxit = 10000))"

factanal_ability <- list()
for (k in 1:2) {
  base <- sprintf("factanal(factors = %d, covmat = ability", k)
  none <- run(paste0(base, ", rotation = \"none\")"))$value
  entry <- list(
    factors = k,
    n_obs = 112,
    correlation = M(none$correlation),
    none = fa_run(paste0(base, ", rotation = \"none\")")),
    varimax = fa_run(paste0(base, ")")),
    tight_none = fa_run(paste0(base, ", rotation = \"none\", ", TIGHT, ")"))
  )
  if (k == 2) entry$promax <- fa_run(paste0(base, ", rotation = \"promax\")"))
  factanal_ability[[sprintf("factors_%d", k)]] <- entry
}

hs_none <- run("factanal(hs9, factors = 3, rotation = \"none\")")$value
p <- 9; k <- 3; n <- nrow(hs9)
factanal_hs <- list(
  n_obs = n,
  factors = k,
  bartlett_factor = n - 1 - (2 * p + 5) / 6 - 2 * k / 3,
  bartlett_factor_formula = "n.obs - 1 - (2 * p + 5) / 6 - 2 * factors / 3",
  correlation = M(hs_none$correlation),
  none = fa_run("factanal(hs9, factors = 3, rotation = \"none\")"),
  varimax = fa_run("factanal(hs9, factors = 3, rotation = \"varimax\")"),
  promax = fa_run("factanal(hs9, factors = 3, rotation = \"promax\")"),
  tight_none = fa_run(paste0("factanal(hs9, factors = 3, rotation = \"none\", ", TIGHT, ")"))
)
sc_reg <- run("factanal(hs9, factors = 3, scores = \"regression\")")
sc_bart <- run("factanal(hs9, factors = 3, scores = \"Bartlett\")")
factanal_hs$scores <- list(
  rotation = "varimax",
  regression = list(call = sc_reg$code, scores = M(sc_reg$value$scores)),
  Bartlett = list(call = sc_bart$code, scores = M(sc_bart$value$scores)),
  definition = paste(
    "zz <- scale(x) (centred, divided by the n - 1 standard deviations);",
    "regression: zz %*% solve(R, Lambda) with R the sample correlation matrix",
    "(times Phi only for rotations returning a 'covariance' attribute, which",
    "stats::promax does not); Bartlett: t(solve(t(Lambda / psi) %*% Lambda,",
    "t(Lambda / psi) %*% t(zz)))")
)
# factanal rotates the loadings exactly as factanal.fit.mle returns them
# (columns in eigenvalue order, signs as eigen() gives them), and only then
# sorts the columns (decreasing sum of squares) and flips their signs
# (positive column sums), leaving rotmat as the rotation returned it. So
# rotmat applies to those raw loadings, not to the sorted "none" loadings.
# They are captured here by a pass-through "rotation".
capture_rotation <- function(L) {
  .captured_loadings <<- unclass(L)
  list(loadings = L, rotmat = diag(ncol(L)))
}
raw_unrotated <- function(code) {
  .captured_loadings <<- NULL
  eval(parse(text = code), envir = globalenv())
  .captured_loadings
}
rotmat_relation <- function(entry_fit, raw, sorted_none) {
  fit <- entry_fit
  A <- raw %*% fit$rotmat
  ord <- order(-colSums(A^2))
  B <- A[, ord, drop = FALSE]
  sgn <- ifelse(colSums(B) < 0, -1, 1)
  B <- sweep(B, 2L, sgn, "*")
  list(
    column_order = I(ord),
    column_signs = I(sgn),
    max_abs_diff = max(abs(B - unclass(fit$loadings))),
    max_abs_diff_sorted_none_times_rotmat = max(abs(sorted_none %*% fit$rotmat - unclass(fit$loadings))),
    definition = paste(
      "loadings[, j] == column_signs[j] * (unrotated_as_passed_to_rotation %*% rotmat)[, column_order[j]];",
      "max_abs_diff_sorted_none_times_rotmat is the same comparison with the sorted rotation = \"none\" loadings in place of the raw ones (not an identity in general)")
  )
}

raw_hs <- raw_unrotated("factanal(hs9, factors = 3, rotation = \"capture_rotation\")")
factanal_hs$unrotated_as_passed_to_rotation <- M(raw_hs)
for (rot in c("varimax", "promax")) {
  fit <- run(sprintf("factanal(hs9, factors = 3, rotation = \"%s\")", rot))$value
  factanal_hs[[rot]]$rotmat_relation <- rotmat_relation(fit, raw_hs, unclass(hs_none$loadings))
}
raw_ab <- raw_unrotated("factanal(factors = 2, covmat = ability, rotation = \"capture_rotation\")")
ab_none <- run("factanal(factors = 2, covmat = ability, rotation = \"none\")")$value
factanal_ability$factors_2$unrotated_as_passed_to_rotation <- M(raw_ab)
for (rot in c("varimax", "promax")) {
  fit <- run(sprintf("factanal(factors = 2, covmat = ability, rotation = \"%s\")", rot))$value
  factanal_ability$factors_2[[rot]]$rotmat_relation <- rotmat_relation(fit, raw_ab, unclass(ab_none$loadings))
}

# ------------------------------------------------------- stats_rotations ----
L0 <- unclass(hs_none$loadings)

stats_rot <- function(code) {
  r <- run(code)
  out <- list(call = code, loadings = M(r$value$loadings), rotmat = M(r$value$rotmat))
  if (grepl("promax", code)) {
    ti <- solve(r$value$rotmat)
    out$Phi_from_rotmat <- M(ti %*% t(ti))
  }
  out$messages <- r$messages
  out
}

gpa_rot <- function(code) {
  r <- run(code)
  g <- r$value
  tab <- g$Table
  list(
    call = code,
    method = g$method,
    orthogonal = g$orthogonal,
    convergence = g$convergence,
    iterations = S(tab[nrow(tab), 1]),
    f = S(tab[nrow(tab), 2]),
    log10_gradient_norm = S(tab[nrow(tab), 3]),
    loadings = M(g$loadings),
    Th = M(g$Th),
    Phi = M(g$Phi),
    messages = r$messages
  )
}

stats_rotations <- list(
  input_loadings = M(L0),
  input_note = "unclass(factanal(hs9, factors = 3, rotation = \"none\")$loadings), same as factanal_hs$none$loadings",
  conventions = paste(
    "stats: loadings = input %*% rotmat (Phi of promax = solve(rotmat) %*% t(solve(rotmat)));",
    "GPArotation orthogonal (GPForth): loadings = input %*% Th;",
    "GPArotation oblique (GPFoblq): loadings = input %*% t(solve(Th)), Phi = t(Th) %*% Th;",
    "GPArotation 'iterations' is the last row index of $Table (0 = no step), 'f' the criterion value there"),
  varimax = stats_rot("stats::varimax(L0)"),
  varimax_eps_1e12 = stats_rot("stats::varimax(L0, eps = 1e-12)"),
  varimax_unnormalized = stats_rot("stats::varimax(L0, normalize = FALSE)"),
  varimax_unnormalized_eps_1e12 = stats_rot("stats::varimax(L0, normalize = FALSE, eps = 1e-12)"),
  promax = stats_rot("stats::promax(L0, m = 4)"),
  psych_Promax = stats_rot("psych::Promax(L0, m = 4)"),
  psych_kaiser_Promax = stats_rot("psych::kaiser(L0, rotate = \"Promax\")"),
  GPA_Varimax = gpa_rot("GPArotation::Varimax(L0, Tmat = diag(3))"),
  GPA_Varimax_normalized = gpa_rot("GPArotation::Varimax(L0, Tmat = diag(3), normalize = TRUE)"),
  GPA_quartimax = gpa_rot("GPArotation::quartimax(L0, Tmat = diag(3))"),
  GPA_quartimax_normalized = gpa_rot("GPArotation::quartimax(L0, Tmat = diag(3), normalize = TRUE)"),
  GPA_oblimin = gpa_rot("GPArotation::oblimin(L0, Tmat = diag(3), gam = 0)"),
  GPA_oblimin_normalized = gpa_rot("GPArotation::oblimin(L0, Tmat = diag(3), gam = 0, normalize = TRUE)"),
  GPA_geominQ = gpa_rot("GPArotation::geominQ(L0, Tmat = diag(3), delta = 0.01)"),
  GPA_geominQ_normalized = gpa_rot("GPArotation::geominQ(L0, Tmat = diag(3), delta = 0.01, normalize = TRUE)"),
  GPFoblq_oblimin = gpa_rot("GPArotation::GPFoblq(L0, Tmat = diag(3), normalize = FALSE, method = \"oblimin\", methodArgs = list(gam = 0))"),
  GPFoblq_oblimin_normalized = gpa_rot("GPArotation::GPFoblq(L0, Tmat = diag(3), normalize = TRUE, method = \"oblimin\", methodArgs = list(gam = 0))"),
  GPA_Varimax_tight = gpa_rot("GPArotation::Varimax(L0, Tmat = diag(3), eps = 1e-7, maxit = 10000)"),
  GPA_Varimax_normalized_tight = gpa_rot("GPArotation::Varimax(L0, Tmat = diag(3), normalize = TRUE, eps = 1e-7, maxit = 10000)"),
  GPA_quartimax_tight = gpa_rot("GPArotation::quartimax(L0, Tmat = diag(3), eps = 1e-7, maxit = 10000)"),
  GPA_quartimax_normalized_tight = gpa_rot("GPArotation::quartimax(L0, Tmat = diag(3), normalize = TRUE, eps = 1e-7, maxit = 10000)"),
  GPA_oblimin_tight = gpa_rot("GPArotation::oblimin(L0, Tmat = diag(3), gam = 0, eps = 1e-7, maxit = 10000)"),
  GPA_oblimin_normalized_tight = gpa_rot("GPArotation::oblimin(L0, Tmat = diag(3), gam = 0, normalize = TRUE, eps = 1e-7, maxit = 10000)"),
  GPA_geominQ_tight = gpa_rot("GPArotation::geominQ(L0, Tmat = diag(3), delta = 0.01, eps = 1e-7, maxit = 10000)"),
  GPA_geominQ_normalized_tight = gpa_rot("GPArotation::geominQ(L0, Tmat = diag(3), delta = 0.01, normalize = TRUE, eps = 1e-7, maxit = 10000)")
)

# -------------------------------------------------------------- psych_fa ----
psych_items <- function(code) {
  r <- run(code)
  f <- r$value
  list(
    call = code,
    fm = f$fm,
    rotation = f$rotation,
    n_obs = f$n.obs,
    nh = f$nh,
    loadings = M(f$loadings),
    Phi = M(f$Phi),
    rot_mat = M(f$rot.mat),
    communality = V(f$communality),
    communalities_optim = V(f$communalities),
    uniquenesses = V(f$uniquenesses),
    e_values = V(f$e.values),
    values = V(f$values),
    dof = f$dof,
    objective = S(f$objective),
    STATISTIC = S(f$STATISTIC),
    PVAL = S(f$PVAL),
    chi = S(f$chi),
    EPVAL = S(f$EPVAL),
    rms = S(f$rms),
    crms = S(f$crms),
    RMSEA = V(f$RMSEA),
    TLI = S(f$TLI),
    BIC = S(f$BIC),
    SABIC = S(f$SABIC),
    EBIC = S(f$EBIC),
    ESABIC = S(f$ESABIC),
    CFI = S(f$CFI),
    null_model = S(f$null.model),
    null_chisq = S(f$null.chisq),
    null_dof = S(f$null.dof),
    fit = S(f$fit),
    fit_off = S(f$fit.off),
    Vaccounted = M(f$Vaccounted),
    messages = r$messages
  )
}

psych_fa <- list(hs = list(), harman74 = list())
for (fm in c("minres", "ml")) {
  for (rot in c("none", "varimax", "promax", "oblimin", "quartimax", "geominQ")) {
    code <- sprintf("psych::fa(hs9, nfactors = 3, fm = \"%s\", rotate = \"%s\")", fm, rot)
    psych_fa$hs[[paste(fm, rot, sep = "_")]] <- psych_items(code)
  }
  for (rot in c("none", "varimax", "oblimin")) {
    code <- sprintf("psych::fa(harman74, nfactors = 4, n.obs = 145, fm = \"%s\", rotate = \"%s\")", fm, rot)
    psych_fa$harman74[[paste(fm, rot, sep = "_")]] <- psych_items(code)
  }
}
psych_fa$notes <- I(c(
  "psych 2.2.9 fa() returns no CFI (the CFI entries are null).",
  "With raw data psych uses cor(x, use = 'pairwise') and np.obs = pairwiseCount(x); chi = sum over off-diagonal cells of residual^2 * np.obs, nh = harmonic mean of np.obs.",
  "With a matrix, chi = n.obs * sum of squared off-diagonal residuals.",
  "loadings: columns sign-flipped to positive sums, then sorted by decreasing variance accounted (diag(Phi %*% t(L) %*% L) when oblique); rot_mat is NOT permuted or sign-flipped."
))

# ------------------------------------------------------------- adequacy ----
kmo_items <- function(code) {
  r <- run(code)
  list(call = code, MSA = S(r$value$MSA), MSAi = V(r$value$MSAi), messages = r$messages)
}
bart_items <- function(code) {
  r <- run(code)
  list(call = code, chisq = S(r$value$chisq), p_value = S(r$value$p.value),
       df = S(r$value$df), messages = r$messages)
}
adequacy <- list(
  hs = list(
    KMO = kmo_items("psych::KMO(hs9)"),
    bartlett = bart_items("psych::cortest.bartlett(cor(hs9), n = 301)")
  ),
  harman74 = list(
    KMO = kmo_items("psych::KMO(harman74)"),
    bartlett = bart_items("psych::cortest.bartlett(harman74, n = 145)")
  ),
  bfi = list(
    KMO = kmo_items("psych::KMO(bfi25)"),
    bartlett = bart_items("psych::cortest.bartlett(bfi25)"),
    bartlett_from_matrix = bart_items("psych::cortest.bartlett(cor(bfi25, use = \"pairwise\"), n = nrow(bfi25))"),
    pairwise_correlation = M(cor(bfi25, use = "pairwise")),
    pairwise_count_min = min(psych::pairwiseCount(bfi25)),
    pairwise_count_max = max(psych::pairwiseCount(bfi25)),
    note = paste(
      "KMO and cortest.bartlett given raw data with NA use cor(x, use = \"pairwise\")",
      "(pairwise-complete Pearson correlations); cortest.bartlett then takes n = nrow(x)",
      "= 2800, all rows, including those with missing items.")
  )
)

# --------------------------------------------------------------- lavaan ----
canonical_loadings <- function(lambda, theta_diag) {
  # Rotate lambda so that t(L) %*% diag(1/theta) %*% L is diagonal with
  # decreasing entries, and make every column sum positive (the form of
  # factanal's unrotated solution).
  Mx <- crossprod(lambda / theta_diag, lambda)
  e <- eigen(Mx, symmetric = TRUE)
  L <- lambda %*% e$vectors
  s <- sign(colSums(L))
  s[s == 0] <- 1
  L <- sweep(L, 2L, s, "*")
  dimnames(L) <- list(rownames(lambda), paste0("Factor", seq_len(ncol(L))))
  L
}

lavaan_items <- function(code, seed = NULL) {
  if (!is.null(seed)) set.seed(seed)
  r <- run(code)
  m <- r$value[[1L]]
  est <- lavaan::lavInspect(m, "est")
  opts <- lavaan::lavInspect(m, "options")
  fm <- lavaan::fitMeasures(m, c("logl", "unrestricted.logl", "npar", "chisq", "df",
                                 "pvalue", "aic", "bic", "bic2", "ntotal"))
  theta <- diag(est$theta)
  out <- list(
    call = code,
    seed = seed,
    converged = lavaan::lavInspect(m, "converged"),
    iterations = lavaan::lavInspect(m, "iterations"),
    estimator = opts$estimator,
    missing = opts$missing,
    rotation = opts$rotation,
    rotation_args = opts$rotation.args[c("orthogonal", "row.weights", "std.ov",
                                         "geomin.epsilon", "rstarts", "algorithm",
                                         "reflect", "order.lv.by", "gpa.tol", "tol",
                                         "max.iter")],
    fit_measures = V(unclass(fm)),
    lambda = M(est$lambda),
    lambda_std_all = M(unclass(r$value$loadings)),
    theta = V(theta),
    psi = M(est$psi),
    implied_cov = M(lavaan::lavInspect(m, "implied")$cov),
    messages = r$messages
  )
  if (!is.null(est$nu)) out$nu <- V(setNames(drop(est$nu), rownames(est$nu)))
  list(items = out, model = m)
}

res <- lavaan_items("lavaan::efa(data = hs9, nfactors = 3, rotation = \"none\")")
hs_lav_none <- res$items
m_hs <- res$model
est_hs <- lavaan::lavInspect(m_hs, "est")
hs_lav_none$sample_cov_n_denominator <- M(lavaan::lavInspect(m_hs, "sampstat")$cov)
hs_lav_none$lambda_canonical <- M(canonical_loadings(est_hs$lambda, diag(est_hs$theta)))
hs_lav_none$uniquenesses_standardized <- V(diag(est_hs$theta) / diag(lavaan::lavInspect(m_hs, "sampstat")$cov))

lavaan_hs <- list(
  n = nrow(hs9),
  none = hs_lav_none,
  geomin = lavaan_items("lavaan::efa(data = hs9, nfactors = 3, rotation = \"geomin\")", seed = SEED)$items,
  notes = I(c(
    "rotation = \"none\" is allowed by lavaan::efa(); the loadings are then in echelon form (lambda[i, j] = 0 for j > i), psi = I.",
    "lambda_canonical is derived in R from that solution: lambda %*% eigenvectors of t(lambda) %*% diag(1/theta) %*% lambda (decreasing), columns with positive sums.",
    "sample covariance uses the n denominator; logl = -n/2 * (p*log(2*pi) + log det(Sigma) + tr(S_n Sigma^-1)); unrestricted.logl is the same with Sigma = S_n; chisq = 2 * (unrestricted.logl - logl) = n * F_ML (no Bartlett correction); bic = -2 logl + npar * log(n).",
    "npar = p*k - k*(k-1)/2 + p (loadings less the echelon zeros, plus unique variances; no means since meanstructure is off for complete data)."
  ))
)

res <- lavaan_items("lavaan::efa(data = bfi25, nfactors = 5, missing = \"ml\", rotation = \"none\")")
bfi_none <- res$items
m_bfi <- res$model
est_bfi <- lavaan::lavInspect(m_bfi, "est")
h1 <- lavaan::lavInspect(m_bfi, "sampstat.h1")
bfi_none$lambda_canonical <- M(canonical_loadings(est_bfi$lambda, diag(est_bfi$theta)))
bfi_none$h1_mean <- V(setNames(drop(h1$mean), names(h1$mean)))
bfi_none$h1_cov <- M(h1$cov)
bfi_none$n_missing_patterns <- nrow(lavaan::lavInspect(m_bfi, "patterns"))
lavaan_bfi <- list(
  n = nrow(bfi25),
  none = bfi_none,
  notes = I(c(
    "FIML: logl = sum over rows of the normal log-density of the observed entries, with the mean nu and covariance lambda lambda' + theta restricted to them.",
    "unrestricted.logl is the same for the saturated model whose mean and covariance (h1_mean, h1_cov) lavaan estimates by EM.",
    "npar = loadings (p*k - k*(k-1)/2) + p unique variances + p means."
  ))
)

# ------------------------------------------------------------- versions ----
versions <- list(
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  GPArotation = as.character(packageVersion("GPArotation")),
  lavaan = as.character(packageVersion("lavaan")),
  stats = as.character(packageVersion("stats")),
  platform = R.version$platform,
  LAPACK = La_version(),
  BLAS = unname(extSoftVersion()["BLAS"]),
  seed = SEED
)

reference <- list(
  versions = versions,
  data_checks = data_checks,
  factanal_ability = factanal_ability,
  factanal_hs = factanal_hs,
  stats_rotations = stats_rotations,
  psych_fa = psych_fa,
  adequacy = adequacy,
  lavaan_hs = lavaan_hs,
  lavaan_bfi = lavaan_bfi
)

writeLines(to_json(reference), out_json)
cat("wrote", out_json, "and", out_txt, "\n")
