//! The store generator: a seeded, deterministic model of an AWS account (users, groups, customer
//! managed policies, inline policies) in one of three [`Shape`]s, written out as the JSON that
//! `aws iam get-account-authorization-details` prints.
//!
//! Every shape has one *bench user* with five planted statements that decide the benchmark
//! requests (see [`crate::fixture`]). Every other statement is noise drawn from a fixed
//! vocabulary of services, actions, wildcard patterns, resources and conditions. Noise resources
//! never cover the planted resources (`arn:aws:s3:::bench-*`, `table/bench-orders`), and noise with
//! `"Resource": "*"` only names services the requests do not use, so the expected decision of
//! each request is known without running an evaluator; noise still shares the requests' actions,
//! so every engine has candidate statements to reject.

use serde_json::{json, Value};

/// The account every generated entity lives in.
pub const ACCOUNT: &str = "111122223333";

/// A tiny xorshift64* generator: deterministic across platforms and runs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `true` with probability `pct` percent.
    pub fn pct(&mut self, pct: u32) -> bool {
        self.below(100) < pct as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `k` distinct indices in `0..n` (`k <= n`), in drawing order.
    pub fn distinct(&mut self, k: usize, n: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        while out.len() < k.min(n) {
            let i = self.below(n);
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

/// The size and mix of a generated store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// `small`, `medium` or `large`.
    pub name: &'static str,
    /// IAM users; each has one inline policy.
    pub users: usize,
    /// Statements in each user's inline policy.
    pub inline_statements: usize,
    /// Groups; each has one inline policy.
    pub groups: usize,
    /// Statements in each group's inline policy.
    pub group_statements: usize,
    /// Customer managed policies.
    pub managed: usize,
    /// Statements in each managed policy.
    pub managed_statements: usize,
    /// Groups each user belongs to.
    pub groups_per_user: usize,
    /// Managed policies attached to each user.
    pub managed_per_user: usize,
    /// Percentage of noise statements with a Condition block.
    pub condition_pct: u32,
    /// Percentage of noise statements whose actions are wildcard patterns.
    pub wildcard_pct: u32,
    /// Percentage of noise statements that are `Deny`.
    pub deny_pct: u32,
    /// Percentage of group statements with `${aws:username}` in a resource.
    pub variable_pct: u32,
    /// Percentage of noise statements with `NotAction`.
    pub not_action_pct: u32,
    /// The generator's seed.
    pub seed: u64,
}

impl Shape {
    /// 10 policies (3 user inline, 2 group inline, 5 managed), 35 statements, 3 users.
    pub const SMALL: Shape = Shape {
        name: "small",
        users: 3,
        inline_statements: 3,
        groups: 2,
        group_statements: 3,
        managed: 5,
        managed_statements: 4,
        groups_per_user: 2,
        managed_per_user: 3,
        condition_pct: 20,
        wildcard_pct: 30,
        deny_pct: 5,
        variable_pct: 2,
        not_action_pct: 2,
        seed: 1,
    };
    /// 1,000 users, 10,000 statements (5,000 user inline, 1,000 in 50 groups, 4,000 in 200
    /// managed policies); 3 groups and 10 managed policies per user.
    pub const MEDIUM: Shape = Shape {
        name: "medium",
        users: 1_000,
        inline_statements: 5,
        groups: 50,
        group_statements: 20,
        managed: 200,
        managed_statements: 20,
        groups_per_user: 3,
        managed_per_user: 10,
        condition_pct: 20,
        wildcard_pct: 30,
        deny_pct: 5,
        variable_pct: 2,
        not_action_pct: 2,
        seed: 2,
    };
    /// 10,000 users, 100,000 statements (50,000 user inline, 10,000 in 500 groups, 40,000 in
    /// 2,000 managed policies); 3 groups and 10 managed policies per user.
    pub const LARGE: Shape = Shape {
        name: "large",
        users: 10_000,
        inline_statements: 5,
        groups: 500,
        group_statements: 20,
        managed: 2_000,
        managed_statements: 20,
        groups_per_user: 3,
        managed_per_user: 10,
        condition_pct: 20,
        wildcard_pct: 30,
        deny_pct: 5,
        variable_pct: 2,
        not_action_pct: 2,
        seed: 3,
    };

    /// The three shapes, smallest first.
    pub const ALL: [Shape; 3] = [Shape::SMALL, Shape::MEDIUM, Shape::LARGE];

    /// A shape by name.
    pub fn by_name(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.name == name)
    }

    /// The shapes named in `$KEYCARD_BENCH_SHAPES` (comma-separated), else all three.
    pub fn from_env() -> Vec<Shape> {
        match std::env::var("KEYCARD_BENCH_SHAPES") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Shape::by_name(s).unwrap_or_else(|| panic!("unknown shape {s:?} (small, medium, large)")))
                .collect(),
            _ => Shape::ALL.to_vec(),
        }
    }

    /// Statements the store holds.
    pub fn statements(&self) -> usize {
        self.users * self.inline_statements
            + self.groups * self.group_statements
            + self.managed * self.managed_statements
    }

    /// Policies the store holds.
    pub fn policies(&self) -> usize {
        self.users + self.groups + self.managed
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`, Cedar `permit`.
    Allow,
    /// `Deny`, Cedar `forbid`.
    Deny,
}

/// The condition operators the generator uses (each has an exact Cedar translation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `IpAddress`.
    IpAddress,
    /// `NotIpAddress`.
    NotIpAddress,
    /// `StringEquals`.
    StringEquals,
    /// `StringNotEquals`.
    StringNotEquals,
    /// `StringLike`.
    StringLike,
    /// `NumericLessThanEquals` (integers).
    NumericLessThanEquals,
    /// `Bool`.
    Bool,
}

impl Op {
    /// The IAM operator name.
    pub fn name(self) -> &'static str {
        match self {
            Op::IpAddress => "IpAddress",
            Op::NotIpAddress => "NotIpAddress",
            Op::StringEquals => "StringEquals",
            Op::StringNotEquals => "StringNotEquals",
            Op::StringLike => "StringLike",
            Op::NumericLessThanEquals => "NumericLessThanEquals",
            Op::Bool => "Bool",
        }
    }
}

/// One operator on one key with its values (values OR, negated operators NOR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// The operator.
    pub op: Op,
    /// The condition key as written (`aws:SourceIp`).
    pub key: String,
    /// The values as written.
    pub values: Vec<String>,
}

/// One statement of an identity policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// Alphanumeric, unique in its policy.
    pub sid: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// `NotAction` instead of `Action`.
    pub not_action: bool,
    /// Action names and patterns (`s3:GetObject`, `s3:Get*`, `*`).
    pub actions: Vec<String>,
    /// Resource ARNs and patterns, possibly with `${aws:username}`.
    pub resources: Vec<String>,
    /// Operators of the Condition block (distinct operators).
    pub conditions: Vec<Cond>,
}

impl Stmt {
    /// Whether any action is a wildcard pattern.
    pub fn has_wildcard_action(&self) -> bool {
        self.actions.iter().any(|a| a.contains('*') || a.contains('?'))
    }

    /// Whether any resource holds a policy variable.
    pub fn has_variable(&self) -> bool {
        self.resources.iter().any(|r| r.contains("${"))
    }
}

/// A named policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDoc {
    /// PolicyName.
    pub name: String,
    /// Its statements.
    pub statements: Vec<Stmt>,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UserName (`u00042`).
    pub name: String,
    /// Indices into [`Model::groups`].
    pub groups: Vec<usize>,
    /// Indices into [`Model::managed`].
    pub managed: Vec<usize>,
    /// The user's one inline policy.
    pub inline: PolicyDoc,
}

impl User {
    /// The user's ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.name)
    }
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// GroupName (`g0042`).
    pub name: String,
    /// The group's one inline policy.
    pub inline: PolicyDoc,
}

/// A customer managed policy (one version, the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    /// The policy ARN.
    pub arn: String,
    /// PolicyName and the default version's document.
    pub doc: PolicyDoc,
}

/// A generated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The shape it was generated from.
    pub shape: Shape,
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Customer managed policies.
    pub managed: Vec<Managed>,
    /// Index of the bench user (whose planted statements decide the benchmark requests).
    pub bench_user: usize,
}

/// Counts that describe a generated model, for BENCHMARKS.md.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mix {
    /// Policies.
    pub policies: usize,
    /// Statements.
    pub statements: usize,
    /// Statements with a Condition block.
    pub with_conditions: usize,
    /// Statements with a wildcard action.
    pub wildcard_actions: usize,
    /// Deny statements.
    pub deny: usize,
    /// Statements with a policy variable.
    pub with_variables: usize,
    /// NotAction statements.
    pub not_action: usize,
    /// Statements that can apply to one user (inline + groups' + managed), for the bench user.
    pub per_user: usize,
}

/// A service of the noise vocabulary.
struct Service {
    prefix: &'static str,
    actions: &'static [&'static str],
    patterns: &'static [&'static str],
    /// Resource templates: `{n}` is a noise resource number.
    resources: &'static [&'static str],
}

const SERVICES: [Service; 10] = [
    Service {
        prefix: "s3",
        actions: &[
            "GetObject",
            "PutObject",
            "DeleteObject",
            "DeleteObjectVersion",
            "ListBucket",
            "GetObjectAcl",
            "PutObjectAcl",
            "GetBucketPolicy",
            "PutBucketPolicy",
            "GetObjectTagging",
            "PutObjectTagging",
            "ListAllMyBuckets",
        ],
        patterns: &["s3:Get*", "s3:Put*", "s3:List*", "s3:*Object", "s3:*", "s3:Delete*", "s3:*Tagging"],
        resources: &[
            "arn:aws:s3:::data-{n}",
            "arn:aws:s3:::data-{n}/*",
            "arn:aws:s3:::data-{n}/logs/*",
            "arn:aws:s3:::data-{n}*",
        ],
    },
    Service {
        prefix: "dynamodb",
        actions: &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "DescribeTable",
            "ListTables",
        ],
        patterns: &[
            "dynamodb:Get*",
            "dynamodb:Batch*",
            "dynamodb:*Item",
            "dynamodb:Describe*",
            "dynamodb:*",
            "dynamodb:Q*",
        ],
        resources: &[
            "arn:aws:dynamodb:us-east-1:111122223333:table/data-{n}",
            "arn:aws:dynamodb:us-east-1:111122223333:table/data-{n}/index/*",
            "arn:aws:dynamodb:*:111122223333:table/data-{n}",
        ],
    },
    Service {
        prefix: "sqs",
        actions: &["SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "GetQueueUrl", "PurgeQueue"],
        patterns: &["sqs:*", "sqs:Get*", "sqs:*Message", "sqs:*Queue*"],
        resources: &["arn:aws:sqs:us-east-1:111122223333:data-{n}", "arn:aws:sqs:*:111122223333:data-{n}*"],
    },
    Service {
        prefix: "lambda",
        actions: &["InvokeFunction", "GetFunction", "UpdateFunctionCode", "CreateFunction", "DeleteFunction"],
        patterns: &["lambda:*", "lambda:Get*", "lambda:*Function", "lambda:Invoke*"],
        resources: &[
            "arn:aws:lambda:us-east-1:111122223333:function:data-{n}",
            "arn:aws:lambda:us-east-1:111122223333:function:data-{n}:*",
        ],
    },
    Service {
        prefix: "ec2",
        actions: &[
            "DescribeInstances",
            "DescribeVolumes",
            "DescribeImages",
            "StartInstances",
            "StopInstances",
            "RunInstances",
            "TerminateInstances",
        ],
        patterns: &["ec2:Describe*", "ec2:*Instances", "ec2:*"],
        resources: &["*", "arn:aws:ec2:us-east-1:111122223333:instance/*"],
    },
    Service {
        prefix: "kms",
        actions: &["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"],
        patterns: &["kms:*", "kms:Generate*", "kms:*crypt", "kms:Describe*"],
        resources: &["arn:aws:kms:us-east-1:111122223333:key/data-{n}"],
    },
    Service {
        prefix: "logs",
        actions: &["CreateLogGroup", "CreateLogStream", "PutLogEvents", "DescribeLogGroups", "GetLogEvents"],
        patterns: &["logs:*", "logs:Create*", "logs:Get*", "logs:Describe*"],
        resources: &["arn:aws:logs:us-east-1:111122223333:log-group:data-{n}:*"],
    },
    Service {
        prefix: "cloudwatch",
        actions: &["GetMetricData", "PutMetricData", "ListMetrics", "DescribeAlarms"],
        patterns: &["cloudwatch:*", "cloudwatch:Get*", "cloudwatch:List*", "cloudwatch:Describe*"],
        resources: &["*"],
    },
    Service {
        prefix: "sns",
        actions: &["Publish", "Subscribe", "GetTopicAttributes"],
        patterns: &["sns:*", "sns:Get*", "sns:Pub*"],
        resources: &["arn:aws:sns:us-east-1:111122223333:data-{n}"],
    },
    Service {
        prefix: "iam",
        actions: &["GetUser", "GetRole", "PassRole", "ListAttachedUserPolicies"],
        patterns: &["iam:Get*", "iam:List*", "iam:*"],
        resources: &["arn:aws:iam::111122223333:role/data-{n}", "arn:aws:iam::111122223333:user/data-{n}"],
    },
];

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

/// Every concrete action of the noise vocabulary (`s3:GetObject`, ...).
pub fn vocabulary_actions() -> Vec<String> {
    SERVICES.iter().flat_map(|s| s.actions.iter().map(move |a| format!("{}:{a}", s.prefix))).collect()
}

/// The planted resources; no noise pattern covers them.
pub mod planted {
    /// Read with `s3:Get*` (managed policy).
    pub const REPORTS: &str = "arn:aws:s3:::bench-reports";
    /// `s3:*` allowed (user inline), `s3:DeleteObject*` denied (group).
    pub const ARCHIVE: &str = "arn:aws:s3:::bench-archive";
    /// `${aws:username}` home prefix (group).
    pub const HOME: &str = "arn:aws:s3:::bench-home";
    /// DynamoDB table allowed under conditions (user inline).
    pub const ORDERS: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/bench-orders";
}

struct Gen<'a> {
    rng: Rng,
    shape: &'a Shape,
    resource_space: usize,
}

impl Gen<'_> {
    fn resource(&mut self, service: &Service) -> String {
        let n = self.rng.below(self.resource_space);
        self.rng.pick(service.resources).replace("{n}", &n.to_string())
    }

    fn condition(&mut self, kind: usize) -> Cond {
        let rng = &mut self.rng;
        let cidr = |rng: &mut Rng| match rng.below(3) {
            0 => format!("10.{}.0.0/16", rng.below(256)),
            1 => format!("192.168.{}.0/24", rng.below(256)),
            _ => "203.0.113.0/24".to_owned(),
        };
        match kind {
            0 => Cond {
                op: Op::IpAddress,
                key: "aws:SourceIp".into(),
                values: (0..1 + rng.below(2)).map(|_| cidr(rng)).collect(),
            },
            1 => Cond { op: Op::NotIpAddress, key: "aws:SourceIp".into(), values: vec![cidr(rng)] },
            2 => Cond {
                op: Op::StringEquals,
                key: "aws:RequestedRegion".into(),
                values: {
                    let k = 1 + rng.below(2);
                    rng.distinct(k, REGIONS.len()).into_iter().map(|i| REGIONS[i].into()).collect()
                },
            },
            3 => Cond {
                op: Op::StringNotEquals,
                key: "aws:RequestedRegion".into(),
                values: vec![(*rng.pick(&REGIONS)).into()],
            },
            4 => Cond {
                op: Op::StringLike,
                key: "s3:prefix".into(),
                values: vec!["home/*".into(), format!("data-{}/*", rng.below(self.resource_space))],
            },
            5 => Cond {
                op: Op::NumericLessThanEquals,
                key: "s3:max-keys".into(),
                values: vec![(10 * (1 + rng.below(100))).to_string()],
            },
            _ => Cond {
                op: Op::Bool,
                key: "aws:SecureTransport".into(),
                values: vec![if rng.pct(80) { "true" } else { "false" }.into()],
            },
        }
    }

    /// A noise statement; `variables` allows `${aws:username}` resources.
    fn noise(&mut self, sid: String, variables: bool) -> Stmt {
        let shape = self.shape;
        let effect = if self.rng.pct(shape.deny_pct) { Effect::Deny } else { Effect::Allow };
        let variable = variables && self.rng.pct(shape.variable_pct);
        let service = if variable { &SERVICES[0] } else { self.rng.pick(&SERVICES) };
        let not_action = !variable && self.rng.pct(shape.not_action_pct);
        let actions: Vec<String> = if not_action {
            let exempt = ["iam:*", "organizations:*", "account:*"];
            let k = 1 + self.rng.below(2);
            self.rng.distinct(k, exempt.len()).into_iter().map(|i| exempt[i].into()).collect()
        } else if self.rng.pct(shape.wildcard_pct) {
            if self.rng.below(40) == 0 {
                vec!["*".into()]
            } else {
                let k = 1 + self.rng.below(2);
                let idx = self.rng.distinct(k, service.patterns.len());
                idx.into_iter().map(|i| service.patterns[i].into()).collect()
            }
        } else {
            let k = 1 + self.rng.below(3);
            let idx = self.rng.distinct(k, service.actions.len());
            idx.into_iter().map(|i| format!("{}:{}", service.prefix, service.actions[i])).collect()
        };
        // `*` resources only for services the requests do not use; `*` and NotAction actions
        // only on s3 data resources.
        let resource_service = if not_action || actions.iter().any(|a| a == "*") { &SERVICES[0] } else { service };
        let resources = if variable {
            vec![format!("arn:aws:s3:::home-{}/${{aws:username}}/*", self.rng.below(self.resource_space))]
        } else {
            let k = 1 + usize::from(self.rng.pct(30));
            let mut out: Vec<String> = Vec::new();
            for _ in 0..k {
                let r = self.resource(resource_service);
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            out
        };
        let conditions = if self.rng.pct(shape.condition_pct) {
            let k = 1 + usize::from(self.rng.pct(30));
            self.rng.distinct(k, 7).into_iter().map(|kind| self.condition(kind)).collect()
        } else {
            Vec::new()
        };
        Stmt { sid, effect, not_action, actions, resources, conditions }
    }

    fn policy(&mut self, name: String, planted: Vec<Stmt>, total: usize, variables: bool) -> PolicyDoc {
        let mut statements = planted;
        let mut i = 0;
        while statements.len() < total {
            statements.push(self.noise(format!("S{i}"), variables));
            i += 1;
        }
        PolicyDoc { name, statements }
    }
}

fn stmt(sid: &str, effect: Effect, actions: &[&str], resources: &[&str], conditions: Vec<Cond>) -> Stmt {
    Stmt {
        sid: sid.into(),
        effect,
        not_action: false,
        actions: actions.iter().map(|s| (*s).into()).collect(),
        resources: resources.iter().map(|s| (*s).into()).collect(),
        conditions,
    }
}

impl Model {
    /// Generates the model of `shape` (deterministic for a given shape).
    pub fn generate(shape: Shape) -> Model {
        let mut g = Gen { rng: Rng::new(shape.seed), shape: &shape, resource_space: (shape.statements() / 20).max(50) };
        let bench_user = shape.users / 2;
        // Memberships first, so the bench user's first group and managed policy are known.
        let memberships: Vec<(Vec<usize>, Vec<usize>)> = (0..shape.users)
            .map(|_| {
                let groups = g.rng.distinct(shape.groups_per_user, shape.groups);
                let managed = g.rng.distinct(shape.managed_per_user, shape.managed);
                (groups, managed)
            })
            .collect();
        let bench_group = memberships[bench_user].0[0];
        let bench_managed = memberships[bench_user].1[0];

        let managed = (0..shape.managed)
            .map(|i| {
                let planted = if i == bench_managed {
                    vec![stmt(
                        "BenchReportsRead",
                        Effect::Allow,
                        &["s3:Get*", "s3:List*"],
                        &[planted::REPORTS, &format!("{}/*", planted::REPORTS)],
                        Vec::new(),
                    )]
                } else {
                    Vec::new()
                };
                let name = format!("m{i:04}");
                Managed {
                    arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
                    doc: g.policy(name, planted, shape.managed_statements, false),
                }
            })
            .collect();
        let groups = (0..shape.groups)
            .map(|i| {
                let planted = if i == bench_group {
                    vec![
                        stmt(
                            "BenchArchiveNoDelete",
                            Effect::Deny,
                            &["s3:DeleteObject*"],
                            &[&format!("{}/*", planted::ARCHIVE)],
                            Vec::new(),
                        ),
                        stmt(
                            "BenchHome",
                            Effect::Allow,
                            &["s3:GetObject", "s3:PutObject"],
                            &[&format!("{}/${{aws:username}}/*", planted::HOME)],
                            Vec::new(),
                        ),
                    ]
                } else {
                    Vec::new()
                };
                let name = format!("g{i:04}");
                Group { inline: g.policy(format!("{name}-inline"), planted, shape.group_statements, true), name }
            })
            .collect();
        let users = memberships
            .into_iter()
            .enumerate()
            .map(|(i, (groups, managed))| {
                let planted = if i == bench_user {
                    vec![
                        stmt(
                            "BenchArchiveAll",
                            Effect::Allow,
                            &["s3:*"],
                            &[&format!("{}/*", planted::ARCHIVE)],
                            Vec::new(),
                        ),
                        stmt(
                            "BenchOrdersFromOffice",
                            Effect::Allow,
                            &["dynamodb:GetItem", "dynamodb:Query"],
                            &[planted::ORDERS],
                            vec![
                                Cond {
                                    op: Op::IpAddress,
                                    key: "aws:SourceIp".into(),
                                    values: vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()],
                                },
                                Cond {
                                    op: Op::StringEquals,
                                    key: "aws:RequestedRegion".into(),
                                    values: vec!["us-east-1".into(), "eu-west-1".into()],
                                },
                                Cond { op: Op::Bool, key: "aws:SecureTransport".into(), values: vec!["true".into()] },
                            ],
                        ),
                    ]
                } else {
                    Vec::new()
                };
                let name = format!("u{i:05}");
                User {
                    inline: g.policy(format!("{name}-inline"), planted, shape.inline_statements, false),
                    name,
                    groups,
                    managed,
                }
            })
            .collect();
        Model { shape, users, groups, managed, bench_user }
    }

    /// The bench user.
    pub fn bench(&self) -> &User {
        &self.users[self.bench_user]
    }

    /// Every policy document with what it is attached to.
    pub fn documents(&self) -> impl Iterator<Item = &PolicyDoc> {
        self.users
            .iter()
            .map(|u| &u.inline)
            .chain(self.groups.iter().map(|g| &g.inline))
            .chain(self.managed.iter().map(|m| &m.doc))
    }

    /// Counts of the statement mix.
    pub fn mix(&self) -> Mix {
        let mut m = Mix::default();
        for doc in self.documents() {
            m.policies += 1;
            for s in &doc.statements {
                m.statements += 1;
                m.with_conditions += usize::from(!s.conditions.is_empty());
                m.wildcard_actions += usize::from(s.has_wildcard_action());
                m.deny += usize::from(s.effect == Effect::Deny);
                m.with_variables += usize::from(s.has_variable());
                m.not_action += usize::from(s.not_action);
            }
        }
        let u = self.bench();
        m.per_user = u.inline.statements.len()
            + u.groups.iter().map(|&g| self.groups[g].inline.statements.len()).sum::<usize>()
            + u.managed.iter().map(|&p| self.managed[p].doc.statements.len()).sum::<usize>();
        m
    }

    /// The store as one `get-account-authorization-details` document.
    pub fn to_json(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                json!({
                    "UserName": u.name,
                    "UserId": format!("AIDA{i:017}"),
                    "Arn": u.arn(),
                    "Path": "/",
                    "CreateDate": "2024-01-01T00:00:00Z",
                    "GroupList": u.groups.iter().map(|&g| self.groups[g].name.clone()).collect::<Vec<_>>(),
                    "AttachedManagedPolicies": u.managed.iter().map(|&m| json!({
                        "PolicyName": self.managed[m].doc.name,
                        "PolicyArn": self.managed[m].arn,
                    })).collect::<Vec<_>>(),
                    "UserPolicyList": [{"PolicyName": u.inline.name, "PolicyDocument": doc_json(&u.inline)}],
                    "Tags": [],
                })
            })
            .collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                json!({
                    "GroupName": g.name,
                    "GroupId": format!("AGPA{i:017}"),
                    "Arn": format!("arn:aws:iam::{ACCOUNT}:group/{}", g.name),
                    "Path": "/",
                    "CreateDate": "2024-01-01T00:00:00Z",
                    "GroupPolicyList": [{"PolicyName": g.inline.name, "PolicyDocument": doc_json(&g.inline)}],
                    "AttachedManagedPolicies": [],
                })
            })
            .collect();
        let mut attachments = vec![0usize; self.managed.len()];
        for u in &self.users {
            for &m in &u.managed {
                attachments[m] += 1;
            }
        }
        let policies: Vec<Value> = self
            .managed
            .iter()
            .enumerate()
            .map(|(i, m)| {
                json!({
                    "PolicyName": m.doc.name,
                    "PolicyId": format!("ANPA{i:017}"),
                    "Arn": m.arn,
                    "Path": "/",
                    "DefaultVersionId": "v1",
                    "AttachmentCount": attachments[i],
                    "PermissionsBoundaryUsageCount": 0,
                    "IsAttachable": true,
                    "CreateDate": "2024-01-01T00:00:00Z",
                    "UpdateDate": "2024-01-01T00:00:00Z",
                    "PolicyVersionList": [{
                        "Document": doc_json(&m.doc),
                        "VersionId": "v1",
                        "IsDefaultVersion": true,
                        "CreateDate": "2024-01-01T00:00:00Z",
                    }],
                })
            })
            .collect();
        json!({
            "AccountId": ACCOUNT,
            "UserDetailList": users,
            "GroupDetailList": groups,
            "RoleDetailList": [],
            "Policies": policies,
            "IsTruncated": false,
        })
    }

    /// The store as `(name, text)` documents for [`keycard::Store::from_documents`].
    pub fn documents_text(&self) -> Vec<(String, String)> {
        vec![(format!("{}-account.json", self.shape.name), self.to_json().to_string())]
    }
}

fn one_or_many(items: &[String]) -> Value {
    match items {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    }
}

fn doc_json(doc: &PolicyDoc) -> Value {
    let statements: Vec<Value> = doc
        .statements
        .iter()
        .map(|s| {
            let mut obj = serde_json::Map::new();
            obj.insert("Sid".into(), s.sid.clone().into());
            obj.insert("Effect".into(), if s.effect == Effect::Allow { "Allow" } else { "Deny" }.into());
            obj.insert(if s.not_action { "NotAction" } else { "Action" }.into(), one_or_many(&s.actions));
            obj.insert("Resource".into(), one_or_many(&s.resources));
            if !s.conditions.is_empty() {
                let mut block = serde_json::Map::new();
                for c in &s.conditions {
                    let entry = block.entry(c.op.name()).or_insert_with(|| json!({}));
                    if let Value::Object(keys) = entry {
                        keys.insert(c.key.clone(), one_or_many(&c.values));
                    }
                }
                obj.insert("Condition".into(), Value::Object(block));
            }
            Value::Object(obj)
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}
