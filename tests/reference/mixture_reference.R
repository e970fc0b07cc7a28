# Reference values for Gaussian mixtures, computed with R's mclust.
#
# Run from the repository root:
#
#     Rscript tests/reference/mixture_reference.R [JSON path [text path]]
#
# By default it writes, next to this script,
#
#   mixture_reference.json    the reference values described below
#   mclust_faithful_bic.txt   the printed BIC table (print(mclustBIC(...))),
#                             its summary, the printed ICL table and the
#                             summary of the best model, exactly as R prints them
#
# Given only a JSON path, the text file is written next to that JSON file, so
# the committed files stay untouched.
#
# Needs R with the package mclust (Debian: r-cran-mclust); nothing else. The
# JSON is written by the small writer below, every double with 17 significant
# digits (%.17g), so that it is read back bit for bit.
#
# Data: Old Faithful, read from the CSV bundled with the Python package
# (lvm/datasets/data/faithful.csv, 272 rows, columns eruptions and waiting).
# The script checks that it equals datasets::faithful and stops otherwise.
#
# Models (mclust's names), all with G = 1..5 components, d = 2:
#   VII  spherical, unequal volume        Sigma_k = lambda_k I
#   VVI  diagonal, varying                Sigma_k = diag(s_k1, s_k2)
#   EEE  ellipsoidal, equal (tied, full)  Sigma_k = Sigma
#   VVV  ellipsoidal, varying (full)      Sigma_k unrestricted
#
# mclust itself involves nothing random here (it draws a random subset for its
# initialisation only when n > mclust.options("subset") = 2000). The only
# random step is this script's own check with other starting partitions
# (fits$<model>$<G>$random_starts), seeded per (model, G) from versions$seed,
# so the output is deterministic.
#
# JSON conventions
# ----------------
#   matrix        {"rownames": [...], "colnames": [...], "data": [[row 1], [row 2], ...]}
#                 (row-major; a name list is null when R has no names)
#   3-d array     sigma (d x d x G) is a list of G matrices, sigma[[k]] = sigma[, , k]
#   named vector  {"names": [...], "values": [...]}
#   vector        a list of numbers
#   scalar        a number, string or boolean
#   missing       null (NA, NaN, +-Inf and "not returned by R")
#   "call"        the exact R code that produced an entry (evaluated as written,
#                 with X the 272 x 2 double matrix of the data)
#   "messages"    warnings and messages that code emitted
#
# Top-level keys
# --------------
#   versions      R, mclust, LAPACK/BLAS versions, the seed
#   settings      the mclust options and EM controls in force (emControl(),
#                 mclust.options() items emModelNames, hcModelName, hcUse,
#                 subset, warn) and how the EM is started
#   data_check    the comparison of the CSV with datasets::faithful
#   definitions   BIC, npar (df), ICL and the EM stopping rule as mclust
#                 computes them (text), and npar per model for d = 2
#   bic_table     mclustBIC(X, G = 1:5, modelNames = c("VII","VVI","EEE","VVV")):
#                 bic (5 x 4 matrix, rows G, columns model), loglik, df,
#                 return_codes, top3 (pickBIC); and the same tables for the
#                 converged EM (loglik_em_limit, bic_em_limit) and for the
#                 largest log-likelihood found (loglik_best_known,
#                 bic_best_known; see random_starts below)
#   icl_table     mclustICL(...) on the same grid: icl (5 x 4), top3
#   best          Mclust(X, G = 1:5, modelNames = ...): best model and G by
#                 BIC with its loglik, n, df, bic, icl, pro, mean, sigma,
#                 z_first10, classification and classification_table
#   initial_partitions
#                 the model-based hierarchical clustering partitions from which
#                 mclust starts EM for G = 2..5 (272 labels each, 1-based,
#                 as hclass(hc(X, "VVV", use = "SVD"), G) returns them)
#   fits          fits[[model]][[G]] (G as a string "1".."5") for each model
#                 and G = 1..5:
#       call, model, G, n, d
#       loglik, df, bic, icl          as Mclust(X, G = G, modelNames = model) returns
#       bic_table_value, icl_table_value   the same cell of bic_table / icl_table
#       pro, mean (d x G), sigma (G matrices d x d), z_first10 (10 x G),
#       classification (n labels)     Mclust's fitted values
#       em                            the EM run behind it (G >= 2): iterations,
#                                     relative_loglik_change_at_stop, return_code,
#                                     and whether Mclust applied its extra M-step
#                                     (see definitions$extra_mstep); then
#                                     loglik_at_returned_parameters (the
#                                     log-likelihood of pro/mean/sigma above,
#                                     recomputed with mclust::dens)
#       me_default                    the parameters at which loglik was
#                                     evaluated (the last M-step of me(), before
#                                     Mclust's extra M-step), G >= 2
#       em_limit                      the same EM sequence (same start, same
#                                     updates) continued until the largest relative
#                                     change of a parameter between two
#                                     iterations is below 1e-15: loglik, bic,
#                                     icl, pro, mean, sigma, z_first10,
#                                     classification, iterations, last change.
#                                     mclust's default stopping (relative loglik
#                                     change < 1e-5) is far from this limit for
#                                     most fits (see README).
#       random_starts                 30 other starting partitions (nearest of
#                                     G random rows), each run to tol = 1e-12:
#                                     all their log-likelihoods, how many end
#                                     above em_limit, and the best one continued
#                                     like em_limit ("best", same items plus
#                                     min_component_size and
#                                     min_covariance_eigenvalue). For several
#                                     (model, G) mclust's start ends in a local
#                                     maximum below it.

suppressPackageStartupMessages({
  library(mclust)
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
out_args <- commandArgs(trailingOnly = TRUE)
out_json <- if (length(out_args) >= 1L) out_args[[1L]] else file.path(here, "mixture_reference.json")
out_txt <- if (length(out_args) >= 2L) {
  out_args[[2L]]
} else {
  file.path(dirname(out_json), "mclust_faithful_bic.txt")
}

SEED <- 20240601L
set.seed(SEED)

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
    if (nrow(x) == 0L) return("[]")
    rows <- apply(x, 1L, function(r) paste0("[", paste(json_atoms(r), collapse = ", "), "]"))
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

# A (named) vector; always written as a JSON list, even of length 1.
V <- function(x) {
  if (is.null(x)) return(NULL)
  x <- unclass(x)
  if (is.null(names(x))) return(I(unname(as.vector(x))))
  list(names = I(names(x)), values = I(unname(as.vector(x))))
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
faithful_csv <- read.csv(file.path(data_dir, "faithful.csv"))
X <- data.matrix(faithful_csv)          # 272 x 2 double matrix, no row names
storage.mode(X) <- "double"
n <- nrow(X)
d <- ncol(X)
vars <- colnames(X)

R_faithful <- datasets::faithful
as_double_df <- function(df) {
  df[] <- lapply(df, as.double)
  df
}
data_check <- list(
  file = "lvm/datasets/data/faithful.csv",
  compared_with = "datasets::faithful",
  n = n,
  d = d,
  colnames = I(vars),
  column_types_csv = V(vapply(faithful_csv, typeof, "")),
  column_types_R = V(vapply(R_faithful, typeof, "")),
  identical_as_read = identical(faithful_csv, R_faithful),
  identical_after_converting_to_double = identical(as_double_df(faithful_csv), as_double_df(R_faithful)),
  max_abs_diff = max(abs(as.matrix(faithful_csv) - as.matrix(R_faithful))),
  note = paste(
    "read.csv reads waiting as integer while datasets::faithful stores doubles,",
    "so identical() on the data frames as read is false; with both columns",
    "as doubles they are identical (same names, same 544 values, bit for bit).",
    "All fits use X = data.matrix(read.csv(...)), a double matrix.")
)
stopifnot(data_check$identical_after_converting_to_double,
          data_check$max_abs_diff == 0,
          n == 272L, d == 2L)

# -------------------------------------------------------------- settings ----
MODELS <- c("VII", "VVI", "EEE", "VVV")
GS <- 1:5
MODELS_CODE <- "c(\"VII\", \"VVI\", \"EEE\", \"VVV\")"

ctrl <- emControl()
opts <- mclust.options()
settings <- list(
  emControl = list(
    call = "emControl()",
    eps = ctrl$eps,
    tol = I(ctrl$tol),
    itmax = I(ctrl$itmax),
    equalPro = ctrl$equalPro,
    meaning = paste(
      "tol[1]: EM stops when |loglik_t - loglik_(t-1)| / (1 + |loglik_t|) <= tol[1];",
      "tol[2]: tolerance of the inner iterations of M-steps that have them",
      "(not used by VII, VVI, EEE, VVV); eps: the EM stops (singular",
      "covariance, return code -1) when min/(1 + max) of the absolute",
      "diagonal of a Cholesky factor (or of the variances) is <= sqrt(eps);",
      "itmax[1]: maximum number of EM iterations; equalPro = FALSE:",
      "mixing proportions are estimated.")
  ),
  mclust_options = list(
    emModelNames = I(opts$emModelNames),
    hcModelName = opts$hcModelName,
    hcUse = opts$hcUse,
    subset = opts$subset,
    warn = opts$warn
  ),
  initialization = paste(
    "For G >= 2 the EM (mclust::me, which starts with an M-step) starts from",
    "z = unmap(hclass(hcPairs, G)), a hard partition from model-based",
    "agglomerative hierarchical clustering",
    "hcPairs = hc(X, modelName = mclust.options(\"hcModelName\") = \"VVV\",",
    "use = mclust.options(\"hcUse\") = \"SVD\"); use = \"SVD\" runs the",
    "hierarchical clustering on scale(X) %*% V %*% diag(1 / sqrt(D)) with",
    "svd(scale(X)) = U D V' (centred, unit-variance columns, rotated and",
    "whitened by the singular values). The same partition is used for all",
    "four models. No random subset (n = 272 <= subset = 2000). For G = 1 the",
    "closed-form ML estimate (mclust::mvn) is used, no EM."),
  n = n,
  d = d,
  G = I(GS),
  modelNames = I(MODELS)
)

# ------------------------------------------------------------ BIC / ICL ----
bic_run <- run(sprintf("mclustBIC(X, G = 1:5, modelNames = %s, verbose = FALSE)", MODELS_CODE))
BIC <- bic_run$value
icl_run <- run(sprintf("mclustICL(X, G = 1:5, modelNames = %s, verbose = FALSE)", MODELS_CODE))
ICL <- icl_run$value
best_run <- run(sprintf("Mclust(X, G = 1:5, modelNames = %s, verbose = FALSE)", MODELS_CODE))
best_fit <- best_run$value

hcPairs <- hc(X, modelName = mclust.options("hcModelName"), use = mclust.options("hcUse"))
stopifnot(identical(unclass(hcPairs)[, ], unclass(attr(BIC, "initialization")$hcPairs)[, ]))
init_cl <- hclass(hcPairs, 2:5)

df_table <- outer(GS, MODELS, Vectorize(function(G, m) nMclustParams(m, d = d, G = G)))
dimnames(df_table) <- dimnames(unclass(BIC))
bic_mat <- unclass(BIC)[, ]
attributes(bic_mat) <- list(dim = dim(bic_mat), dimnames = dimnames(bic_mat))
icl_mat <- unclass(ICL)[, ]
attributes(icl_mat) <- list(dim = dim(icl_mat), dimnames = dimnames(icl_mat))
ret_mat <- attr(BIC, "returnCodes")

top3_bic <- pickBIC(BIC, k = 3)
top3_icl <- pickBIC(ICL, k = 3)

# -------------------------------------------------------------- utilities ----
comp_names <- function(G) as.character(seq_len(G))

mean_matrix <- function(mu) {
  mu <- as.matrix(mu)
  dimnames(mu) <- list(vars, comp_names(ncol(mu)))
  M(mu)
}

sigma_list <- function(sigma) {
  sigma <- array(sigma, dim = c(d, d, length(sigma) / (d * d)))
  lapply(seq_len(dim(sigma)[3]), function(k) {
    s <- sigma[, , k]
    dimnames(s) <- list(vars, vars)
    M(s)
  })
}

z_first10 <- function(z) {
  z <- as.matrix(z)[1:10, , drop = FALSE]
  dimnames(z) <- list(as.character(1:10), comp_names(ncol(z)))
  M(z)
}

loglik_of <- function(model, parameters) {
  sum(dens(X, modelName = model, parameters = parameters, logarithm = TRUE))
}

icl_of <- function(bic, z) {
  z <- as.matrix(z)
  C <- matrix(0, nrow(z), ncol(z))
  C[cbind(seq_len(nrow(z)), max.col(z, ties.method = "first"))] <- 1
  bic + 2 * sum(C * ifelse(z > 0, log(z), 0))
}

param_vector <- function(o) {
  c(o$parameters$pro, o$parameters$mean, o$parameters$variance$sigma)
}

# EM continued from the same start with mclust's own update (me, one
# iteration per call; each call is exactly one M-step and one E-step) until
# the largest relative parameter change is below 1e-15.
EM_LIMIT_TOL <- 1e-15
EM_LIMIT_MAXIT <- 100000L
em_limit <- function(model, G, z = unmap(init_cl[, as.character(G)]),
                     start = sprintf("z = unmap(initial_partitions[[\"%d\"]])", G)) {
  prev <- NULL
  change <- NA_real_
  it <- 0L
  repeat {
    o <- me(X, model, z, control = emControl(tol = 0, itmax = c(1L, 1L)), warn = FALSE)
    stopifnot(attr(o, "returnCode") %in% c(0, 1))
    it <- it + 1L
    th <- param_vector(o)
    if (!is.null(prev)) {
      change <- max(abs(th - prev) / (1 + abs(prev)))
      if (change < EM_LIMIT_TOL || it >= EM_LIMIT_MAXIT) break
    }
    prev <- th
    z <- o$z
  }
  bic <- bic(model, o$loglik, n = n, d = d, G = G)
  list(
    definition = sprintf(paste(
      "%s; then repeatedly",
      "o = me(X, \"%s\", z, control = emControl(tol = 0, itmax = c(1, 1))); z = o$z",
      "(one M-step and one E-step of mclust's EM each) until",
      "max(|theta_t - theta_(t-1)| / (1 + |theta_(t-1)|)) < %g over",
      "theta = (pro, mean, sigma)"), start, model, EM_LIMIT_TOL),
    iterations = it,
    last_relative_change = change,
    loglik = o$loglik,
    loglik_recomputed = loglik_of(model, o$parameters),
    df = nMclustParams(model, d = d, G = G),
    bic = bic,
    icl = icl_of(bic, o$z),
    pro = V(o$parameters$pro),
    mean = mean_matrix(o$parameters$mean),
    sigma = sigma_list(o$parameters$variance$sigma),
    z_first10 = z_first10(o$z),
    classification = V(map(o$z)),
    min_component_size = min(colSums(o$z)),
    min_covariance_eigenvalue = min(apply(o$parameters$variance$sigma, 3L,
                                          function(S) min(eigen(S, symmetric = TRUE, only.values = TRUE)$values)))
  )
}

# Other starts, to see whether the EM from mclust's start reaches the largest
# maximum: N_STARTS partitions of the data by the nearest (Euclidean) of G
# distinct rows drawn at random, each followed by me() with tol = 1e-12; the
# best of them is then continued like em_limit. Seeded per (model, G).
N_STARTS <- 30L
random_starts <- function(model, G, limit_loglik) {
  seed <- SEED + 100L * match(model, MODELS) + G
  set.seed(seed)
  starts <- lapply(seq_len(N_STARTS), function(s) sort(sample.int(n, G)))
  ll <- vapply(starts, function(rows) {
    D <- sapply(rows, function(r) colSums((t(X) - X[r, ])^2))
    z <- unmap(max.col(-D, ties.method = "first"), groups = seq_len(G))
    o <- me(X, model, z, control = emControl(tol = c(1e-12, sqrt(.Machine$double.eps)),
                                           itmax = c(100000L, 100000L)), warn = FALSE)
    if (attr(o, "returnCode") < 0 || !is.finite(o$loglik)) NA_real_ else o$loglik
  }, 0)
  b <- which.max(ll)
  rows <- starts[[b]]
  D <- sapply(rows, function(r) colSums((t(X) - X[r, ])^2))
  z0 <- unmap(max.col(-D, ties.method = "first"), groups = seq_len(G))
  best <- em_limit(model, G, z0, start = sprintf(paste(
    "z = unmap(max.col(-D)) with D[i, j] = squared distance of row i to row",
    "best_start_rows[j] of X (rows 1-based)")))
  list(
    definition = sprintf(paste(
      "%d starts (set.seed(%d); rows = sort(sample.int(n, G)) per start, the",
      "partition by the nearest of those rows), each run with me(X, \"%s\", z,",
      "control = emControl(tol = c(1e-12, sqrt(.Machine$double.eps)), itmax =",
      "c(100000, 100000))); failed runs (singular covariance) are null"),
      N_STARTS, seed, model),
    seed = seed,
    RNGkind = I(RNGkind()),
    logliks = I(ll),
    n_failed = sum(is.na(ll)),
    n_above_em_limit = sum(ll > limit_loglik + 1e-6, na.rm = TRUE),
    best_start_rows = I(rows),
    best = best
  )
}

# ---------------------------------------------------------------- fits ----
fits <- list()
for (model in MODELS) {
  fits[[model]] <- list()
  for (G in GS) {
    code <- sprintf("Mclust(X, G = %d, modelNames = \"%s\", verbose = FALSE)", G, model)
    r <- run(code)
    f <- r$value
    stopifnot(f$modelName == if (G == 1L) c(VII = "XII", VVI = "XXI", EEE = "XXX", VVV = "XXX")[[model]] else model,
              f$G == G)
    entry <- list(
      call = code,
      messages = r$messages,
      model = model,
      modelName_returned = f$modelName,
      G = G,
      n = f$n,
      d = f$d,
      loglik = S(f$loglik),
      df = S(f$df),
      bic = S(f$bic),
      icl = S(f$icl),
      bic_table_value = bic_mat[as.character(G), model],
      icl_table_value = icl_mat[as.character(G), model],
      pro = V(f$parameters$pro),
      mean = mean_matrix(f$parameters$mean),
      sigma = sigma_list(f$parameters$variance$sigma),
      z_first10 = z_first10(f$z),
      classification = V(unname(f$classification))
    )
    stopifnot(entry$bic == entry$bic_table_value, entry$icl == entry$icl_table_value,
              isTRUE(all.equal(entry$bic, 2 * entry$loglik - entry$df * log(n), tolerance = 1e-14)),
              isTRUE(all.equal(entry$icl, icl_of(entry$bic, f$z), tolerance = 1e-14)))
    if (G == 1L) {
      entry$em <- list(
        note = "G = 1: closed-form ML estimate (mclust::mvn), no EM iterations",
        iterations = NULL,
        loglik_at_returned_parameters = loglik_of(model, f$parameters)
      )
      entry$me_default <- NULL
      entry$em_limit <- NULL
    } else {
      # Exactly what Mclust/summaryMclustBIC runs for this (model, G).
      me_code <- sprintf("me(X, modelName = \"%s\", z = unmap(hclass(hcPairs, %d)))", model, G)
      o <- eval(parse(text = me_code))
      stopifnot(identical(o$loglik, f$loglik))
      info <- attr(o, "info")
      extra <- sum((o$parameters$pro - colMeans(o$z))^2) > sqrt(.Machine$double.eps)
      entry$em <- list(
        call = me_code,
        iterations = S(info["iterations"]),
        relative_loglik_change_at_stop = S(info["error"]),
        tol = ctrl$tol[1],
        return_code = attr(o, "returnCode"),
        loglik_identical_to_Mclust = identical(o$loglik, f$loglik),
        extra_mstep_applied = extra,
        loglik_at_returned_parameters = loglik_of(model, f$parameters),
        max_abs_diff_mean_returned_vs_me = max(abs(f$parameters$mean - o$parameters$mean))
      )
      entry$me_default <- list(
        call = me_code,
        loglik = o$loglik,
        loglik_recomputed = loglik_of(model, o$parameters),
        pro = V(o$parameters$pro),
        mean = mean_matrix(o$parameters$mean),
        sigma = sigma_list(o$parameters$variance$sigma),
        z_first10 = z_first10(o$z)
      )
      entry$em_limit <- em_limit(model, G)
      entry$random_starts <- random_starts(model, G, entry$em_limit$loglik)
    }
    fits[[model]][[as.character(G)]] <- entry
  }
}

loglik_table <- df_table
loglik_table[] <- NA_real_
for (model in MODELS) for (G in GS) {
  loglik_table[as.character(G), model] <- fits[[model]][[as.character(G)]]$loglik
}
stopifnot(max(abs(2 * loglik_table - df_table * log(n) - bic_mat)) < 1e-9)

fit_table <- function(get) {
  out <- df_table
  out[] <- NA_real_
  for (model in MODELS) for (G in GS) out[as.character(G), model] <- get(fits[[model]][[as.character(G)]])
  out
}
loglik_em_limit <- fit_table(function(e) if (e$G == 1) e$loglik else e$em_limit$loglik)
loglik_best_known <- fit_table(function(e) {
  if (e$G == 1) e$loglik else max(e$em_limit$loglik, e$random_starts$best$loglik)
})
bic_em_limit <- 2 * loglik_em_limit - df_table * log(n)
bic_best_known <- 2 * loglik_best_known - df_table * log(n)

# ---------------------------------------------------------------- best ----
best <- list(
  call = best_run$code,
  messages = best_run$messages,
  modelName = best_fit$modelName,
  G = best_fit$G,
  n = best_fit$n,
  d = best_fit$d,
  loglik = S(best_fit$loglik),
  df = S(best_fit$df),
  bic = S(best_fit$bic),
  icl = S(best_fit$icl),
  top3_bic = V(top3_bic),
  top3_bic_diff = V(top3_bic - top3_bic[1]),
  pro = V(best_fit$parameters$pro),
  mean = mean_matrix(best_fit$parameters$mean),
  sigma = sigma_list(best_fit$parameters$variance$sigma),
  z_first10 = z_first10(best_fit$z),
  classification = V(unname(best_fit$classification)),
  classification_table = V(c(table(best_fit$classification)))
)
stopifnot(identical(best_fit$loglik, fits[[best_fit$modelName]][[as.character(best_fit$G)]]$loglik))

# ------------------------------------------------------------ printout ----
txt_calls <- c(
  sprintf("BIC <- mclustBIC(X, G = 1:5, modelNames = %s)", MODELS_CODE),
  "print(BIC)",
  "summary(BIC)",
  sprintf("ICL <- mclustICL(X, G = 1:5, modelNames = %s)", MODELS_CODE),
  "print(ICL)",
  "summary(ICL)",
  sprintf("mod <- Mclust(X, G = 1:5, modelNames = %s)", MODELS_CODE),
  "summary(mod, parameters = TRUE)"
)
txt_env <- new.env(parent = globalenv())
txt <- c(
  "# X <- data.matrix(read.csv(\"lvm/datasets/data/faithful.csv\"))  (identical to datasets::faithful)",
  sprintf("# mclust %s, %s", packageVersion("mclust"), R.version.string),
  "",
  unlist(lapply(txt_calls, function(code) {
    out <- capture.output(value <- withVisible(eval(parse(text = code), envir = txt_env)))
    if (value$visible) out <- c(out, capture.output(print(value$value)))
    c(paste(">", code), out, "")
  }))
)
writeLines(txt, out_txt)

# ---------------------------------------------------------- definitions ----
npar_formula <- c(
  VII = "G*d + G + (G - 1)          = 4G - 1 for d = 2",
  VVI = "G*d + G*d + (G - 1)        = 5G - 1 for d = 2",
  EEE = "G*d + d(d + 1)/2 + (G - 1) = 3G + 2 for d = 2",
  VVV = "G*d + G*d(d + 1)/2 + (G - 1) = 6G - 1 for d = 2"
)
definitions <- list(
  loglik = paste(
    "sum_i log sum_k pro_k N(x_i | mean_k, sigma_k), the observed-data",
    "log-likelihood at the parameters of the last M-step of the EM (no prior);",
    "equal to sum(dens(X, modelName, parameters, logarithm = TRUE))."),
  bic = paste(
    "mclust's sign convention: BIC = 2 * loglik - npar * log(n), larger is",
    "better (mclust::bic). This is minus the usual BIC = -2 loglik + npar log(n)."),
  npar = paste(
    "nMclustParams(modelName, d, G) = nVarParams(modelName, d, G) + G * d",
    "+ (G - 1): covariance parameters, means, and free mixing proportions",
    "(equalPro = FALSE)."),
  npar_formula = as.list(npar_formula),
  npar_d2 = M(df_table),
  icl = paste(
    "icl = bic + 2 * sum_i sum_k c_ik log z_ik, with c_ik = 1 for the k of",
    "largest z_ik in row i (the MAP classification) and 0 otherwise",
    "(mclust:::icl.Mclust, terms with z_ik = 0 count 0); i.e. BIC plus twice",
    "the log-probability of the hard classification, so icl <= bic."),
  em_stopping = paste(
    "mclust's EM (me*, Fortran) alternates M-step and E-step from an initial",
    "z and stops when err = |loglik_t - loglik_(t-1)| / (1 + |loglik_t|) <=",
    "tol[1] = 1e-5 (emControl()$tol = c(1e-5, sqrt(.Machine$double.eps))), or",
    "after itmax[1] = .Machine$integer.max iterations. attr(me(...), \"info\")",
    "holds c(iterations, error = err at the stop). loglik is evaluated at the",
    "parameters of the last M-step, and z are the posteriors at them."),
  extra_mstep = paste(
    "After me(), summaryMclustBIC (used by Mclust) applies one more M-step to",
    "the final z and returns its parameters if sum((pro - colMeans(z))^2) >",
    "sqrt(.Machine$double.eps) (i.e. unless EM has converged to that level).",
    "Then Mclust's pro/mean/sigma are one EM step further than its loglik,",
    "bic, icl and z, which still belong to me()'s last parameters",
    "(fits$*$*$me_default); fits$*$*$em$loglik_at_returned_parameters is the",
    "log-likelihood of the returned parameters."),
  initialization = settings$initialization
)

# ------------------------------------------------------------- versions ----
versions <- list(
  R = R.version.string,
  mclust = as.character(packageVersion("mclust")),
  platform = R.version$platform,
  LAPACK = La_version(),
  BLAS = unname(extSoftVersion()["BLAS"]),
  seed = SEED
)

reference <- list(
  versions = versions,
  settings = settings,
  data_check = data_check,
  definitions = definitions,
  bic_table = list(
    call = bic_run$code,
    messages = bic_run$messages,
    bic = M(bic_mat),
    loglik = M(loglik_table),
    df = M(df_table),
    return_codes = M(ret_mat),
    top3 = V(top3_bic),
    loglik_em_limit = M(loglik_em_limit),
    bic_em_limit = M(bic_em_limit),
    loglik_best_known = M(loglik_best_known),
    bic_best_known = M(bic_best_known),
    note = paste(
      "rows: G = 1..5; columns: models. loglik is that of the fit behind each",
      "cell (fits[[model]][[G]]$loglik, identical to the one mclustBIC used):",
      "bic = 2 * loglik - df * log(n). *_em_limit: the same EM sequence",
      "converged (fits[[model]][[G]]$em_limit); *_best_known: the larger of",
      "em_limit and the best of the random starts",
      "(fits[[model]][[G]]$random_starts$best); G = 1 is exact in all three.")
  ),
  icl_table = list(
    call = icl_run$code,
    messages = icl_run$messages,
    icl = M(icl_mat),
    top3 = V(top3_icl)
  ),
  best = best,
  initial_partitions = c(
    list(call = "hclass(hc(X, modelName = \"VVV\", use = \"SVD\"), G)"),
    setNames(lapply(2:5, function(G) V(unname(init_cl[, as.character(G)]))), as.character(2:5))
  ),
  fits = fits
)

writeLines(to_json(reference), out_json)
cat("wrote", out_json, "and", out_txt, "\n")
