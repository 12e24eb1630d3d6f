"""
Fill the edx-proctoring peer with one exam's worth of attempts for `cargo bench --bench
load -- --peer`: N learners (enrolled, with profiles), each with an attempt on the demo
exam awaiting review (`second_review_required`), and no reviews. Run through the peer's
own Django (`manage.py shell < seed_attempts.py`, N in BENCH_ATTEMPTS). Idempotent: a
second run keeps the learners and puts their attempts back to awaiting review.

Prints one JSON line: the exam's id and content id, a learner's user id, the external ids.
"""

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from edx_proctoring.models import (
    ProctoredExam,
    ProctoredExamSoftwareSecureComment,
    ProctoredExamSoftwareSecureReview,
    ProctoredExamSoftwareSecureReviewHistory,
    ProctoredExamStudentAttempt,
)
from lms_standin.models import Profile

COURSE_ID = 'course-v1:edX+DemoX+Demo_Course'
N = int(os.environ.get('BENCH_ATTEMPTS', '10000'))
SURNAMES = ['Garcia', 'Smith', 'Nguyen', 'Okafor', 'Ivanova', 'Tanaka', 'Muller', 'Haddad']
DOMAIN = '@bench.example.edu'


def username(i):
    """As the demo's learners are named (`mgarcia613`): searched by surname, as ours are."""
    given, surname = GIVEN[i % len(GIVEN)], SURNAMES[(i // len(GIVEN)) % len(SURNAMES)]
    return f'{given[0].lower()}{surname.lower()}{i}'

GIVEN = ['Ana', 'Ben', 'Chloe', 'Dev', 'Emre', 'Fatima', 'Goran', 'Hana', 'Ines', 'Jon']

User = get_user_model()
exam = ProctoredExam.objects.get(course_id=COURSE_ID, external_id='peer-exam-0001')
enrolled = Group.objects.get(name=f'enrolled:{COURSE_ID}')
now = datetime.now(timezone.utc)

with transaction.atomic():
    bench = User.objects.filter(email__endswith=DOMAIN)
    have = set(bench.values_list('username', flat=True))
    new = [
        User(username=username(i), email=username(i) + DOMAIN,
             first_name=GIVEN[i % len(GIVEN)], last_name=SURNAMES[(i // len(GIVEN)) % len(SURNAMES)])
        for i in range(N) if username(i) not in have
    ]
    for u in new:
        u.set_unusable_password()
    User.objects.bulk_create(new, batch_size=2000)
    users = list(User.objects.filter(email__endswith=DOMAIN).order_by('id')[:N])
    Profile.objects.bulk_create(
        [Profile(user=u, name=f'{u.first_name} {u.last_name}') for u in users],
        batch_size=2000, ignore_conflicts=True,
    )
    enrolled.user_set.add(*users)
    codes = list(ProctoredExamStudentAttempt.objects.filter(
        proctored_exam=exam, user__email__endswith=DOMAIN).values_list('attempt_code', flat=True))
    ProctoredExamSoftwareSecureComment.objects.filter(review__attempt_code__in=codes).delete()
    ProctoredExamSoftwareSecureReview.objects.filter(attempt_code__in=codes).delete()
    ProctoredExamSoftwareSecureReviewHistory.objects.filter(attempt_code__in=codes).delete()
    ProctoredExamStudentAttempt.objects.filter(proctored_exam=exam, user__email__endswith=DOMAIN).delete()
    ProctoredExamStudentAttempt.objects.bulk_create([
        ProctoredExamStudentAttempt(
            proctored_exam=exam, user=u, attempt_code=str(uuid.uuid4()).upper(),
            external_id=f'bench-attempt-{u.id}', status='second_review_required',
            taking_as_proctored=True, is_sample_attempt=False,
            allowed_time_limit_mins=exam.time_limit_mins,
            started_at=now - timedelta(minutes=45), completed_at=now - timedelta(minutes=5),
            is_status_acknowledged=False, is_resumable=False,
        ) for u in users
    ], batch_size=2000)

print(json.dumps({
    'exam_id': exam.id,
    'content_id': exam.content_id,
    'user_id': users[len(users) // 2].id,
    'email': users[len(users) // 2].email,
    'external_ids': [f'bench-attempt-{u.id}' for u in users],
}))
