# Reference values for mclust's 14 parsimonious Gaussian mixture models.
#
# Run from the repository root:
#
#     Rscript tests/reference/mclust_models.R [JSON path [data sets]]
#
# (data sets: a comma-separated subset of faithful,iris,diabetes; all by default)
#
# By default it writes, next to this script,
#
#   mclust_models.json   the reference values described below
#   iris.csv             R's datasets::iris (150 rows: Sepal.Length,
#                        Sepal.Width, Petal.Length, Petal.Width, Species)
#   diabetes.csv         mclust's data(diabetes) with the correction of the
#                        mclust vignette (6.1 and later):
#                          names(diabetes) <- c("class", "fpg", "glucose", "insulin")
#                          diabetes$glucose[104] <- 455
#                        (145 rows: class, fpg, glucose, insulin)
#
# The CSV files are always written next to this script (they are inputs of the
# Python tests); the script reads them back and stops unless they reproduce
# R's values exactly. Old Faithful is read from lvm/datasets/data/faithful.csv
# and checked against datasets::faithful.
#
# Needs R with the package mclust (Debian: r-cran-mclust); nothing else.
# mclust draws nothing at random here (a random subset is used for the
# initialisation only when n > mclust.options("subset") = 2000), so the output
# is deterministic. Every double is written with 17 significant digits (%.17g)
# and read back bit for bit.
#
# Data sets and X (the n x d double matrix every fit uses)
#   faithful   272 x 2  eruptions, waiting
#   iris       150 x 4  Sepal.Length, Sepal.Width, Petal.Length, Petal.Width
#   diabetes   145 x 3  fpg, glucose, insulin
#
# Models: mclust.options("emModelNames"), i.e.
#   EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV
# each for G = 1..9 (mclustBIC's default grid).
#
# JSON conventions (as in mixture_reference.json)
# ----------------
#   matrix        {"rownames": [...], "colnames": [...], "data": [[row 1], ...]}
#                 (row-major, on one line; a name list is null when R has no names)
#   sigma         list of G matrices (d x d), sigma[k] = sigma[, , k]
#   named vector  {"names": [...], "values": [...]}
#   vector        a list of numbers
#   missing       null (NA, NaN, +-Inf and "not returned by R")
#   G             as a string key "1".."9"
#
# Top-level keys
# --------------
#   versions      R, mclust, platform, LAPACK, BLAS
#   settings      emControl() (eps, tol, itmax, equalPro), the mclust.options()
#                 in force (emModelNames, hcModelName, hcUse, subset, warn),
#                 the models and G, and the controls of em_limit
#   data          one entry per data set: faithful, iris, diabetes
#
# data[<set>]
#   source, file              where X comes from, the CSV file (repository path)
#   check                     comparison of the CSV with R's data (must be identical)
#   n, d, colnames
#   bic                       mclustBIC(X, G = 1:9): the 9 x 14 matrix (rows G,
#                             columns models, null where mclust gives NA), its
#                             return codes (9 x 14), and top3 (summary(BIC),
#                             i.e. pickBIC(BIC, 3): names "MODEL,G" and values)
#   best                      Mclust(X): modelName, G, loglik, df, bic
#   initial_partitions        "2".."9": hclass(hc(X, "VVV", use = "SVD"), G),
#                             n labels (1-based); the partitions mclustBIC
#                             starts EM from (checked: same hcPairs, and the
#                             me() runs below reproduce every BIC cell)
#   fits[<model>][<G>]        one entry per cell of the BIC matrix:
#       loglik, df, bic       what mclustBIC's cell corresponds to:
#                             df = nMclustParams(model, d, G),
#                             bic = 2 loglik - df log(n) (null when failed)
#       bic_table_value       the cell of data[<set>].bic (identical to bic)
#       return_code, warning  mclust's return code (0 ok, -1 singular
#                             covariance, -2/-3 a component emptied, 1/2
#                             iteration limits) and its WARNING text
#       iterations            EM iterations of the default run (null for G = 1)
#       relative_loglik_change_at_stop   |l_t - l_(t-1)| / (1 + |l_t|) at the stop
#       inner                 for VEI VEE EVE VVE VEV: the inner M-step
#                             iterations mclust reports and the inner error
#       pro, mean (d x G)     parameters of the default run, at which loglik
#                             was evaluated (not sigma, to keep the file small)
#       em_limit              the same start run much further (see settings
#                             em_limit and the README):
#           tight_run         one me() call with emControl(tol = c(1e-14,
#                             1e-14), itmax = c(1e6, 1e6)): loglik,
#                             iterations, return code, warning
#           polish_steps      further EM steps, one me() call each, until no
#                             parameter changes (see settings)
#           iterations        tight_run iterations + polish_steps
#           last_relative_change, previous_relative_change
#                             max |theta_t - theta_(t-1)| / (1 + |theta_(t-1)|)
#                             over theta = (pro, mean, sigma) at the last two
#                             steps
#           loglik            mclust's log-likelihood of the final step
#           loglik_recomputed sum_i log sum_k pro_k N(x_i | mean_k, sigma_k)
#                             computed by this script from pro, mean, sigma
#                             below (not by mclust)
#           df, bic           bic = 2 loglik - df log(n)
#           pro, mean (d x G), sigma (G matrices d x d)
#           return_code, warning, failed (true with null parameters when
#                             mclust fails along the way)
#       For G = 1 mclustBIC uses the closed-form estimate mvn(model, X)
#       (models XII, XXI or XXX); its parameters are given as em_limit (with
#       iterations 0), and iterations is null.
#       A cell whose default run fails has loglik, bic and the parameters
#       null, and em_limit null.

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
out_args <- commandArgs(trailingOnly = TRUE)
out_json <- if (length(out_args) >= 1L) out_args[[1L]] else file.path(here, "mclust_models.json")

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
  if (isTRUE(attr(x, "inline"))) return(inline_json(x))
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

# A matrix written on one line (keeps the file small):
# {"rownames": [...], "colnames": [...], "data": [[...], ...]}
inline_json <- function(x) {
  vec <- function(v) if (is.null(v)) "null" else paste0("[", paste(json_atoms(v), collapse = ", "), "]")
  rows <- if (nrow(x$data) == 0L) character(0) else
    apply(x$data, 1L, function(r) paste0("[", paste(json_atoms(r), collapse = ", "), "]"))
  paste0("{\"rownames\": ", vec(x$rownames), ", \"colnames\": ", vec(x$colnames),
         ", \"data\": [", paste(rows, collapse = ", "), "]}")
}

# A matrix, with its names, stored row-major.
M <- function(m) {
  if (is.null(m)) return(NULL)
  m <- unclass(m)
  if (!is.matrix(m)) m <- as.matrix(m)
  rn <- rownames(m)
  cn <- colnames(m)
  structure(list(rownames = if (is.null(rn)) NULL else rn,
                 colnames = if (is.null(cn)) NULL else cn,
                 data = unname(m)),
            inline = TRUE)
}

# A (named) vector; always written as a JSON list, even of length 1.
V <- function(x) {
  if (is.null(x)) return(NULL)
  x <- unclass(x)
  if (is.null(names(x))) return(I(unname(as.vector(x))))
  list(names = I(names(x)), values = I(unname(as.vector(x))))
}

# A scalar (drops names); NULL stays NULL.
S <- function(x) if (is.null(x) || length(x) == 0L) NULL else unname(x)[[1L]]

# ------------------------------------------------------------------ data ----
# Numbers written with the shortest of 15 or 17 significant digits that reads
# back to the same double.
fmt_num <- function(x) {
  s <- formatC(x, digits = 15, format = "g")
  s <- trimws(s)
  bad <- as.numeric(s) != x
  s[bad] <- sprintf("%.17g", x[bad])
  stopifnot(all(as.numeric(s) == x))
  s
}

write_csv_exact <- function(df, path) {
  cols <- lapply(df, function(v) if (is.numeric(v)) fmt_num(as.double(v)) else as.character(v))
  stopifnot(!any(unlist(lapply(cols, function(v) grepl("[,\"\n]", v)))))
  lines <- c(paste(names(df), collapse = ","), do.call(paste, c(cols, sep = ",")))
  writeLines(lines, path)
}

as_double_df <- function(df) {
  df[] <- lapply(df, function(v) if (is.numeric(v)) as.double(v) else as.character(v))
  attr(df, "row.names") <- seq_len(nrow(df))
  df
}

# datasets::iris
iris_path <- file.path(here, "iris.csv")
write_csv_exact(datasets::iris, iris_path)
iris_csv <- read.csv(iris_path)
iris_check <- list(
  compared_with = "datasets::iris",
  identical = identical(as_double_df(iris_csv), as_double_df(datasets::iris)),
  note = "Species is written as text (the factor's labels); the four numeric columns read back bit for bit.")
stopifnot(iris_check$identical)

# mclust's diabetes, with the vignette's correction
data("diabetes", package = "mclust", envir = environment())
diabetes_raw <- diabetes
stopifnot(identical(names(diabetes_raw), c("class", "glucose", "insulin", "sspg")),
          diabetes_raw$insulin[104] == 45)
diabetes_fixed <- diabetes_raw
names(diabetes_fixed) <- c("class", "fpg", "glucose", "insulin")
diabetes_fixed$glucose[104] <- 455
diabetes_path <- file.path(here, "diabetes.csv")
write_csv_exact(diabetes_fixed, diabetes_path)
diabetes_csv <- read.csv(diabetes_path)
diabetes_check <- list(
  compared_with = paste(
    "data(diabetes, package = \"mclust\"); names(diabetes) <- c(\"class\",",
    "\"fpg\", \"glucose\", \"insulin\"); diabetes$glucose[104] <- 455"),
  identical = identical(as_double_df(diabetes_csv), as_double_df(diabetes_fixed)),
  changed_cells = "row 104, column glucose (called insulin in mclust 6.0.0's data): 45 -> 455",
  note = paste(
    "mclust 6.0.0's ?diabetes calls the data flawed: its glucose, insulin and",
    "sspg columns are the fasting plasma glucose, the glucose area and the",
    "insulin area of the Reaven and Miller data, and row 104 of the glucose",
    "area reads 45 instead of 455. class is written as text."))
stopifnot(diabetes_check$identical)

# Old Faithful from the CSV bundled with the Python package
faithful_path <- file.path(root, "lvm", "datasets", "data", "faithful.csv")
faithful_csv <- read.csv(faithful_path)
faithful_check <- list(
  compared_with = "datasets::faithful",
  identical = identical(as_double_df(faithful_csv), as_double_df(datasets::faithful)),
  note = "read.csv reads waiting as integer; as doubles the data frames are identical.")
stopifnot(faithful_check$identical)

to_X <- function(df, cols) {
  X <- data.matrix(df[, cols])
  storage.mode(X) <- "double"
  rownames(X) <- NULL
  X
}
DATA <- list(
  faithful = list(
    source = "datasets::faithful (Old Faithful geyser eruptions)",
    file = "lvm/datasets/data/faithful.csv",
    check = faithful_check,
    X = to_X(faithful_csv, c("eruptions", "waiting"))),
  iris = list(
    source = "datasets::iris (Anderson's / Fisher's iris data)",
    file = "tests/reference/iris.csv",
    check = iris_check,
    X = to_X(iris_csv, c("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"))),
  diabetes = list(
    source = "mclust's data(diabetes), corrected as in the mclust vignette (Reaven and Miller 1979)",
    file = "tests/reference/diabetes.csv",
    check = diabetes_check,
    X = to_X(diabetes_csv, c("fpg", "glucose", "insulin")))
)
# An optional second argument names a subset of the data sets, e.g. "faithful"
# (the Python test reruns that one to compare with the committed file).
if (length(out_args) >= 2L) DATA <- DATA[strsplit(out_args[[2L]], ",", fixed = TRUE)[[1L]]]
stopifnot(length(DATA) >= 1L, !anyNA(names(DATA)))

# -------------------------------------------------------------- settings ----
MODELS <- mclust.options("emModelNames")
stopifnot(length(MODELS) == 14L)
GS <- 1:9
INNER_MODELS <- c("VEI", "VEE", "EVE", "VVE", "VEV")

TIGHT <- emControl(tol = c(1e-14, 1e-14), itmax = c(1e6, 1e6))
# One EM iteration per me() call (tol[1] = 0, itmax[1] = 1); inner M-step
# iterations to tol[2].
POLISH <- emControl(tol = c(0, 1e-14), itmax = c(1, 1e5))
POLISH_TOL <- 1e-13
POLISH_MAXIT <- 20000L

ctrl <- emControl()
opts <- mclust.options()
settings <- list(
  emControl = list(
    call = "emControl()",
    eps = ctrl$eps,
    tol = I(ctrl$tol),
    itmax = I(ctrl$itmax),
    equalPro = ctrl$equalPro),
  mclust_options = list(
    emModelNames = I(opts$emModelNames),
    hcModelName = opts$hcModelName,
    hcUse = opts$hcUse,
    subset = opts$subset,
    warn = opts$warn),
  models = I(MODELS),
  G = I(GS),
  models_with_inner_iterations = I(INNER_MODELS),
  em_limit = list(
    tight_run = "me(X, model, z0, control = emControl(tol = c(1e-14, 1e-14), itmax = c(1e6, 1e6)))",
    polish_step = "o <- me(X, model, z, control = emControl(tol = c(0, 1e-14), itmax = c(1, 1e5))); z <- o$z",
    polish_stop = sprintf(paste(
      "after the tight run, polish steps are repeated from its z until",
      "max |theta_t - theta_(t-1)| / (1 + |theta_(t-1)|) < %g over",
      "theta = (pro, mean, sigma), or %d steps"), POLISH_TOL, POLISH_MAXIT),
    z0 = "unmap(initial_partitions[G], groups = 1:G)",
    why = paste(
      "mclust stops when the relative log-likelihood change is below tol[1];",
      "the log-likelihood stops changing (to the last bit) while the",
      "parameters still move by about 1e-8, so the tight run alone is not",
      "converged in the parameters. Each polish step is one M-step and one",
      "E-step of mclust's own EM (the inner M-step iterations restart from",
      "mclust's initial values in every call)."))
)

# -------------------------------------------------------------- utilities ----
info_of <- function(o) {
  info <- attr(o, "info")
  if (is.null(info)) return(list(iterations = NULL, error = NULL, inner = NULL))
  inner <- attr(info, "inner")
  v <- as.numeric(unlist(info))
  list(iterations = v[1], error = v[2],
       inner = if (is.null(inner)) NULL else list(iterations = as.numeric(inner)[1],
                                                  error = as.numeric(inner)[2]))
}

sigma_array <- function(o, d) {
  s <- o$parameters$variance$sigma
  array(s, dim = c(d, d, length(s) / (d * d)))
}

param_vector <- function(o) {
  c(o$parameters$pro, o$parameters$mean, o$parameters$variance$sigma)
}

# log-likelihood from the parameters, computed here (not with mclust)
loglik_from <- function(X, pro, mean, sigma) {
  G <- length(pro)
  L <- sapply(seq_len(G), function(k) {
    R <- chol(sigma[, , k])
    q <- backsolve(R, t(X) - mean[, k], transpose = TRUE)
    log(pro[k]) - 0.5 * ncol(X) * log(2 * pi) - sum(log(diag(R))) - 0.5 * colSums(q^2)
  })
  L <- matrix(L, nrow(X), G)
  m <- apply(L, 1L, max)
  sum(m + log(rowSums(exp(L - m))))
}

ok <- function(o) {
  rc <- attr(o, "returnCode")
  !is.null(rc) && rc >= 0 && is.finite(o$loglik)
}

# ---------------------------------------------------------------- fits ----
fit_dataset <- function(key) {
  D <- DATA[[key]]
  X <- D$X
  n <- nrow(X)
  d <- ncol(X)
  vars <- colnames(X)
  comp <- function(G) as.character(seq_len(G))
  mean_M <- function(mu) {
    mu <- matrix(mu, d, length(mu) / d, dimnames = list(vars, comp(length(mu) / d)))
    M(mu)
  }
  sigma_L <- function(s) {
    lapply(seq_len(dim(s)[3]), function(k) {
      m <- matrix(s[, , k], d, d, dimnames = list(vars, vars))
      M(m)
    })
  }

  BIC <- mclustBIC(X, G = GS, verbose = FALSE)
  bic_mat <- unclass(BIC)[, ]
  attributes(bic_mat) <- list(dim = dim(bic_mat), dimnames = dimnames(bic_mat))
  stopifnot(identical(colnames(bic_mat), MODELS), identical(rownames(bic_mat), as.character(GS)))
  ret_mat <- attr(BIC, "returnCodes")
  top3 <- pickBIC(BIC, k = 3)

  best_fit <- Mclust(X, verbose = FALSE)
  best <- list(
    call = "Mclust(X)",
    modelName = best_fit$modelName,
    G = best_fit$G,
    loglik = S(best_fit$loglik),
    df = S(best_fit$df),
    bic = S(best_fit$bic))

  hcPairs <- hc(X, modelName = "VVV", use = "SVD")
  stopifnot(identical(unclass(hcPairs)[, ], unclass(attr(BIC, "initialization")$hcPairs)[, ]),
            is.null(attr(BIC, "initialization")$subset))
  cls <- hclass(hcPairs, GS[GS >= 2])

  fits <- list()
  for (model in MODELS) {
    fits[[model]] <- list()
    for (G in GS) {
      df <- nMclustParams(model, d = d, G = G)
      table_value <- bic_mat[as.character(G), model]
      if (G == 1L) {
        o <- mvn(modelName = model, data = X)
        rc <- attr(o, "returnCode")
        good <- !is.null(rc) && rc >= 0 && is.finite(o$loglik)
        ll <- if (good) o$loglik else NA_real_
        bic <- bic(model, ll, n = n, d = d, G = 1L)
        s <- if (good) sigma_array(o, d) else NULL
        mu <- if (good) o$parameters$mean else NULL
        entry <- list(
          call = sprintf("mvn(\"%s\", X)", model),
          modelName_used = o$modelName,
          loglik = ll, df = df, bic = bic,
          bic_table_value = table_value,
          return_code = rc,
          warning = attr(o, "WARNING"),
          iterations = NULL,
          relative_loglik_change_at_stop = NULL,
          inner = NULL,
          pro = if (good) V(1) else NULL,
          mean = if (good) mean_M(mu) else NULL,
          em_limit = if (!good) NULL else list(
            closed_form = TRUE,
            iterations = 0,
            loglik = ll,
            loglik_recomputed = loglik_from(X, 1, matrix(mu, d, 1), s),
            df = df, bic = bic,
            pro = V(1), mean = mean_M(mu), sigma = sigma_L(s),
            return_code = rc, warning = attr(o, "WARNING"), failed = FALSE))
      } else {
        z0 <- unmap(cls[, as.character(G)], groups = seq_len(G))
        o <- me(X, modelName = model, z = z0)
        good <- ok(o)
        ll <- if (good) o$loglik else NA_real_
        bic <- bic(model, ll, n = n, d = d, G = G)
        inf <- info_of(o)
        entry <- list(
          call = sprintf("me(X, \"%s\", unmap(initial_partitions[\"%d\"]))", model, G),
          loglik = ll, df = df, bic = bic,
          bic_table_value = table_value,
          return_code = attr(o, "returnCode"),
          warning = attr(o, "WARNING"),
          iterations = inf$iterations,
          relative_loglik_change_at_stop = inf$error,
          inner = inf$inner,
          pro = if (good) V(o$parameters$pro) else NULL,
          mean = if (good) mean_M(o$parameters$mean) else NULL,
          em_limit = if (good) em_limit(X, model, G, z0, df, mean_M, sigma_L) else NULL)
      }
      same <- identical(entry$bic, table_value) || (is.na(entry$bic) && is.na(table_value))
      stopifnot(same, identical(as.numeric(entry$return_code), as.numeric(ret_mat[as.character(G), model])))
      fits[[model]][[as.character(G)]] <- entry
    }
  }

  list(
    source = D$source,
    file = D$file,
    check = D$check,
    n = n,
    d = d,
    colnames = I(vars),
    bic = list(
      call = "mclustBIC(X, G = 1:9)",
      bic = M(bic_mat),
      return_codes = M(ret_mat),
      top3 = V(top3)),
    best = best,
    initial_partitions = c(
      list(call = "hclass(hc(X, modelName = \"VVV\", use = \"SVD\"), G)"),
      setNames(lapply(GS[GS >= 2], function(G) V(unname(cls[, as.character(G)]))),
               as.character(GS[GS >= 2]))),
    fits = fits)
}

em_limit <- function(X, model, G, z0, df, mean_M, sigma_L) {
  n <- nrow(X)
  d <- ncol(X)
  t <- me(X, modelName = model, z = z0, control = TIGHT)
  tinf <- info_of(t)
  tight <- list(
    loglik = if (ok(t)) t$loglik else NULL,
    iterations = tinf$iterations,
    inner = tinf$inner,
    return_code = attr(t, "returnCode"),
    warning = attr(t, "WARNING"))
  failed <- function(o, steps) list(
    failed = TRUE, tight_run = tight, polish_steps = steps,
    return_code = attr(o, "returnCode"), warning = attr(o, "WARNING"))
  if (!ok(t)) return(failed(t, 0L))
  o <- t
  prev <- param_vector(o)
  change <- prev_change <- NA_real_
  steps <- 0L
  repeat {
    o2 <- me(X, modelName = model, z = o$z, control = POLISH)
    steps <- steps + 1L
    if (!ok(o2)) return(failed(o2, steps))
    th <- param_vector(o2)
    prev_change <- change
    change <- max(abs(th - prev) / (1 + abs(prev)))
    o <- o2
    prev <- th
    if (change < POLISH_TOL || steps >= POLISH_MAXIT) break
  }
  s <- sigma_array(o, d)
  mu <- o$parameters$mean
  list(
    failed = FALSE,
    tight_run = tight,
    polish_steps = steps,
    iterations = tinf$iterations + steps,
    last_relative_change = change,
    previous_relative_change = prev_change,
    loglik = o$loglik,
    loglik_recomputed = loglik_from(X, o$parameters$pro, mu, s),
    df = df,
    bic = 2 * o$loglik - df * log(n),
    pro = V(o$parameters$pro),
    mean = mean_M(mu),
    sigma = sigma_L(s),
    return_code = attr(o, "returnCode"),
    warning = attr(o, "WARNING"))
}

t_start <- proc.time()[["elapsed"]]
data_out <- lapply(setNames(names(DATA), names(DATA)), fit_dataset)
elapsed <- proc.time()[["elapsed"]] - t_start

# ------------------------------------------------------------- versions ----
versions <- list(
  R = R.version.string,
  mclust = as.character(packageVersion("mclust")),
  platform = R.version$platform,
  LAPACK = La_version(),
  BLAS = unname(extSoftVersion()["BLAS"]))

reference <- list(
  versions = versions,
  settings = settings,
  data = data_out)

writeLines(to_json(reference), out_json)
cat(sprintf("wrote %s (fits took %.1f s)\n", out_json, elapsed))
